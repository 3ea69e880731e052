// A COPY whose step was built before reuses the earlier layer's bytes for the entries that did not
// change (a splice). Property: after any sequence of edits (content, add, delete, rename, mode),
// the spliced layer is byte for byte the layer a cold build of the same context writes, and the
// splice did happen (files came from the earlier layer). A failure prints the seed and the edits;
// SPLICE_SEED=<seed> replays it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTempDirs, fileClockSeconds, tempDir } from '@strata/testing';
import { openStore, type Store } from '@strata/image-store';
import { openLayerCache } from '@strata/layer-cache';
import { tarFileBytes } from '@strata/tar';
import { build } from '../src';

afterAll(cleanupTempDirs);

const SEQUENCES = Number(process.env.SPLICE_SEQUENCES ?? 30);
const ROUNDS = 4;
// Stat data older than the racy window (2 s) are trusted: the files start out an hour old.
const OLD = fileClockSeconds() - 3600;

const OPS = ['content', 'add', 'delete', 'rename', 'mode', 'none'] as const;
interface Edit {
  op: (typeof OPS)[number];
  pick: number;
  seed: number;
}
const editArb: fc.Arbitrary<Edit> = fc.record({ op: fc.constantFrom(...OPS), pick: fc.nat(1000), seed: fc.nat(1_000_000) });
const sequenceArb = fc.array(editArb, { minLength: ROUNDS, maxLength: ROUNDS });

/** Files of several shapes: empty, one block, several blocks, a name that needs PAX, one over the splice size (1 MiB). */
function initialTree(dir: string, seed: number): void {
  const files: Record<string, Buffer> = {
    Dockerfile: Buffer.from('FROM scratch\nCOPY . /\n'),
    'a.txt': Buffer.from('alpha\n'),
    'empty': Buffer.alloc(0),
    'd/b.bin': Buffer.alloc(1500, seed % 251),
    'd/e/c.txt': Buffer.from('charlie\n'.repeat(70)),
    [`d/${'long-name-'.repeat(12)}.txt`]: Buffer.from('long\n'),
    'd/naïve.txt': Buffer.from('unicode\n'),
    'big/large.bin': Buffer.alloc(1024 * 1024 + 700, (seed + 1) % 251),
  };
  for (let i = 0; i < 12; i++) files[`many/f${i}.txt`] = Buffer.from(`file ${i} ${seed}\n`.repeat(1 + (i % 5)));
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), data);
  }
  age(dir);
}

/** Every file and directory an hour old (not the newest edit: it stays inside the racy window, as real edits are). */
function age(dir: string, except?: string): void {
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(join(dir, r)).isDirectory()) walk(r);
      if (r !== except) utimesSync(join(dir, r), OLD, OLD);
    }
  };
  walk('');
  utimesSync(dir, OLD, OLD);
}

function listFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    if (statSync(join(dir, r)).isDirectory()) out.push(...listFiles(dir, r));
    else if (r !== 'Dockerfile') out.push(r);
  }
  return out;
}

/** Apply one edit; returns the path it wrote (left inside the racy window), if any. */
function applyEdit(dir: string, e: Edit): string | undefined {
  const files = listFiles(dir);
  const f = files.length ? files[e.pick % files.length] : undefined;
  const p = (rel: string) => join(dir, rel);
  switch (e.op) {
    case 'content':
      if (!f) return undefined;
      writeFileSync(p(f), `changed ${e.seed}\n`.repeat(1 + (e.seed % 40)));
      return f;
    case 'add': {
      const rel = `${['d', 'many', 'd/e', 'new'][e.seed % 4]}/n${e.seed}.txt`;
      mkdirSync(p(rel.slice(0, rel.lastIndexOf('/'))), { recursive: true });
      writeFileSync(p(rel), `new ${e.seed}\n`);
      return rel;
    }
    case 'delete':
      if (f) rmSync(p(f));
      return undefined;
    case 'rename': {
      if (!f) return undefined;
      const to = `d/r${e.seed}-${f.slice(f.lastIndexOf('/') + 1)}`;
      renameSync(p(f), p(to));
      return to;
    }
    case 'mode':
      if (f) chmodSync(p(f), (statSync(p(f)).mode & 0o777) === 0o644 ? 0o755 : 0o644);
      return f;
    case 'none':
      return undefined;
  }
}

async function layerOf(store: Store, id: string): Promise<{ digest: string; bytes: Buffer }> {
  const digest = (await store.image(id)).config.rootfs.diff_ids[0];
  return { digest, bytes: readFileSync(store.blobs.path(digest as `sha256:${string}`)) };
}

describe('splicing a COPY layer from the previous build of the step', () => {
  let seed: number;
  beforeAll(() => {
    seed = process.env.SPLICE_SEED !== undefined ? Number(process.env.SPLICE_SEED) : Math.floor(Math.random() * 2 ** 31);
  });

  it(`gives the cold build's bytes after random edits (${SEQUENCES} sequences of ${ROUNDS}: content, add, delete, rename, mode)`, async () => {
    const sequences = fc.sample(sequenceArb, { seed, numRuns: SEQUENCES });
    let spliced = 0;
    for (const [i, edits] of sequences.entries()) {
      const work = tempDir();
      const ctx = join(work, 'ctx');
      mkdirSync(ctx);
      initialTree(ctx, i);
      const warm = await openStore(join(work, 'warm'));
      await build({ store: warm, contextDir: ctx, tags: ['splice:1'] });
      for (const [round, e] of edits.entries()) {
        const touched = applyEdit(ctx, e);
        age(ctx, touched);
        const a = await build({ store: warm, contextDir: ctx, tags: ['splice:1'] });
        // A cache hit is the earlier layer by design (keys ignore mtimes, as BuildKit's do): only
        // a rebuilt step is compared.
        const copy = a.steps.find((s) => s.name.includes('COPY'))!;
        if (copy.cached) continue;
        const cold = await openStore(join(work, `cold-${round}`));
        const b = await build({ store: cold, contextDir: ctx, tags: ['splice:1'] });
        const [la, lb] = [await layerOf(warm, a.id), await layerOf(cold, b.id)];
        const what = `seed ${seed}, sequence ${i}, round ${round}, edits ${JSON.stringify(edits.slice(0, round + 1))}`;
        expect(la.digest, what).toBe(lb.digest);
        expect(la.bytes.equals(lb.bytes), what).toBe(true);
        // Docker's size of each image, counted as the layer was written (spliced or read), is the
        // one its headers give
        const want = tarFileBytes(warm.blobs.path(la.digest as `sha256:${string}`));
        expect((await warm.image(a.id)).size, what).toBe(want);
        expect((await cold.image(b.id)).size, what).toBe(want);
        expect(copy.files, what).toBeDefined();
        spliced += copy.files!.spliced;
        rmSync(join(work, `cold-${round}`), { recursive: true, force: true });
      }
      rmSync(work, { recursive: true, force: true });
    }
    // the unchanged files of every rebuilt layer came from the previous one
    expect(spliced).toBeGreaterThan(SEQUENCES * 5);
  }, 600_000);

  it('reads every file of a cold build once: the key made from the hashes the writer took is the key made by reading', async () => {
    const work = tempDir();
    const ctx = join(work, 'ctx');
    mkdirSync(ctx);
    initialTree(ctx, 7);
    // more files than the stat cache can leave unread before the key (so the layer is written first)
    for (let i = 0; i < 400; i++) writeFileSync(join(ctx, 'many', `g${i}.txt`), `g ${i}\n`);
    age(ctx);
    const store = await openStore(join(work, 'root'));
    const first = await build({ store, contextDir: ctx, tags: ['once:1'] });
    expect(first.contextFilesRead).toBeGreaterThan(400);
    // --no-cache with every file trusted by the stat cache: the key is made before the layer, by
    // the stat cache's hashes; the record it writes has the same key as the first build's
    const second = await build({ store, contextDir: ctx, tags: ['once:1'], noCache: true });
    expect(second.contextFilesRead).toBe(0);
    expect((await layerOf(store, second.id)).digest).toBe((await layerOf(store, first.id)).digest);
    const records = (await openLayerCache(store.blobs).list()).filter((r) => r.description?.startsWith('COPY'));
    expect(records.length).toBe(1);
    // the record keeps the layer's regular-file bytes, counted as it was written
    const digest = records[0].layer!.digest;
    expect(records[0].layer!.contentSize).toBe(tarFileBytes(store.blobs.path(digest)));
    // and a cached rebuild answers from it, reading nothing
    const third = await build({ store, contextDir: ctx, tags: ['once:1'] });
    expect(third.steps.find((s) => s.name.includes('COPY'))?.cached).toBe(true);
    expect(third.id).toBe(second.id);
  }, 120_000);
});
