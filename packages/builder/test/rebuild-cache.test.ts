// The rebuild cache must never answer "unchanged" when something changed: a wrong answer ships a
// stale image. Property: after any sequence of edits to a context, the COPY key the cached path
// gives (walk cache, stat cache, stat-fingerprint alias, all persisted between builds) equals the
// key of a plain walk that hashes every file.
//
// The caches trust what changed more than 2 s (the racy window) before they were written, so the
// sequences run side by side, in rounds: every context gets its next edit, every key is checked
// right away (racy: nothing may be trusted), then once more after 2.1 s have passed for all of
// them together (aged: everything that did not change is trusted). One sleep a round serves all
// sequences, so a thousand of them take seconds, not hours. A failure prints the seed and the
// edit list; FC_SEED=<seed> replays it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { chmodSync, chownSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openBlobStore } from '@strata/cas';
import { openLayerCache, type LayerCache } from '@strata/layer-cache';
import { TRUSTED_STAT_FIELDS } from '@strata/context';
import { cleanupTempDirs, fileClockSeconds, tempDir } from '@strata/testing';
import { copyStepKey } from '../src/copy-key';
import { matchSources } from '../src/copy-plan';
import { contextTree } from '../src/source-tree';

afterAll(cleanupTempDirs);

const SEQUENCES = Number(process.env.REBUILD_CACHE_SEQUENCES ?? 1000);
const ROUNDS = 4;
const RACY_SLEEP_MS = 2100;
const ROOT_ONLY = process.getuid?.() === 0;

const OPS = ['content', 'same-size-same-mtime', 'mode', 'owner', 'rename', 'add', 'delete', 'symlink-retarget', 'hard-link', 'dir-to-file', 'file-to-dir', 'touch', 'none'] as const;
type Op = (typeof OPS)[number];
interface Edit {
  op: Op;
  pick: number;
  seed: number;
}

const editArb: fc.Arbitrary<Edit> = fc.record({ op: fc.constantFrom(...OPS), pick: fc.nat(1000), seed: fc.nat(1_000_000) });
const sequenceArb = fc.array(editArb, { minLength: ROUNDS, maxLength: ROUNDS });

/** Every path under `dir` (files, links, directories), sorted: what an edit may pick. */
function listAll(dir: string, rel = ''): Array<{ rel: string; kind: 'file' | 'dir' | 'symlink' }> {
  const out: Array<{ rel: string; kind: 'file' | 'dir' | 'symlink' }> = [];
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(dir, r));
    const kind = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'file';
    out.push({ rel: r, kind });
    if (kind === 'dir') out.push(...listAll(dir, r));
  }
  return out;
}

/**
 * Write a file with a whole-second mtime, as tar, git checkouts and `cp -p` leave them: the trap
 * below can then put the very same mtime back (utimes takes no nanoseconds).
 */
function write(path: string, data: string | Buffer): void {
  writeFileSync(path, data);
  const t = fileClockSeconds();
  utimesSync(path, t, t);
}

function initialTree(dir: string): void {
  mkdirSync(join(dir, 'd/e'), { recursive: true });
  write(join(dir, 'a.txt'), 'alpha\n');
  write(join(dir, 'b.txt'), 'bravo bravo\n');
  write(join(dir, 'd/c.txt'), 'charlie\n');
  write(join(dir, 'd/e/f.txt'), 'foxtrot\n');
  symlinkSync('a.txt', join(dir, 'link'));
}

/** Apply one edit. Each keeps the context valid (only files, directories and symlinks). */
function applyEdit(dir: string, e: Edit): void {
  const all = listAll(dir);
  const files = all.filter((x) => x.kind === 'file');
  const dirs = all.filter((x) => x.kind === 'dir');
  const links = all.filter((x) => x.kind === 'symlink');
  const pickOf = <T>(xs: T[]): T | undefined => (xs.length ? xs[e.pick % xs.length] : undefined);
  const text = (n: number) => `v${e.seed}-${'x'.repeat(n % 7)}\n`;
  const f = pickOf(files);
  const p = (rel: string) => join(dir, rel);
  // A generated name (`h<seed>.txt`, …) may be taken already: an earlier edit of the sequence
  // with the same seed made it, or turned it into a directory. The edit replaces what is there,
  // unless that is (or holds) the file it starts from: then it does nothing.
  const free = (rel: string): boolean => {
    if (f && (f.rel === rel || f.rel.startsWith(`${rel}/`))) return false;
    rmSync(p(rel), { recursive: true, force: true });
    return true;
  };
  switch (e.op) {
    case 'content':
      if (f) write(p(f.rel), text(e.seed));
      return;
    case 'same-size-same-mtime': {
      // The racy trap: new bytes, same size, and the old times put back.
      if (!f) return;
      const st = statSync(p(f.rel));
      const flipped = readFileSync(p(f.rel));
      if (flipped.length === 0) return;
      flipped[e.seed % flipped.length] ^= 0x20;
      writeFileSync(p(f.rel), flipped);
      utimesSync(p(f.rel), st.atimeMs / 1000, st.mtimeMs / 1000);
      if (statSync(p(f.rel)).mtimeMs !== st.mtimeMs) throw new Error(`the trap could not put the mtime of ${f.rel} back`);
      return;
    }
    case 'mode':
      if (f) chmodSync(p(f.rel), (statSync(p(f.rel)).mode & 0o777) === 0o644 ? 0o755 : 0o644);
      return;
    case 'owner':
      if (f && ROOT_ONLY) chownSync(p(f.rel), e.seed % 2 ? 1000 : 0, e.seed % 2 ? 1000 : 0);
      return;
    case 'rename': {
      const to = `${pickOf(dirs)?.rel ?? '.'}/r${e.seed}.txt`.replace(/^\.\//, '');
      if (f && free(to)) renameSync(p(f.rel), p(to));
      return;
    }
    case 'add': {
      const to = `${pickOf(dirs)?.rel ?? '.'}/n${e.seed}.txt`.replace(/^\.\//, '');
      if (free(to)) write(p(to), text(e.seed + 3));
      return;
    }
    case 'delete':
      if (f) rmSync(p(f.rel));
      return;
    case 'symlink-retarget': {
      const l = pickOf(links);
      const target = pickOf(files)?.rel ?? 'missing';
      if (!l) {
        if (free(`s${e.seed}`)) symlinkSync(target, p(`s${e.seed}`));
      }
      else {
        rmSync(p(l.rel));
        symlinkSync(target === l.rel ? 'elsewhere' : target, p(l.rel));
      }
      return;
    }
    case 'hard-link': {
      // A new name for a file, or a file replaced by a link to another one (same bytes or not).
      if (!f) return;
      const other = files[(e.pick + 1) % files.length];
      if (other && other.rel !== f.rel && e.seed % 2) {
        rmSync(p(other.rel));
        linkSync(p(f.rel), p(other.rel));
      } else if (free(`h${e.seed}.txt`)) linkSync(p(f.rel), p(`h${e.seed}.txt`));
      return;
    }
    case 'dir-to-file': {
      const d = pickOf(dirs);
      if (!d) return;
      rmSync(p(d.rel), { recursive: true });
      write(p(d.rel), text(e.seed));
      return;
    }
    case 'file-to-dir':
      if (!f) return;
      rmSync(p(f.rel));
      mkdirSync(p(f.rel));
      write(p(`${f.rel}/inner.txt`), text(e.seed));
      return;
    case 'touch':
      if (f) utimesSync(p(f.rel), fileClockSeconds(), fileClockSeconds());
      return;
    case 'none':
      return;
  }
}

/** The COPY . / key through the caches in `cacheDir` and `cache` (the builder's own code path). */
async function cachedKey(dir: string, cacheDir: string, cache: LayerCache): Promise<string> {
  const tree = contextTree(dir, undefined, cacheDir);
  return copyStepKey({ context: tree, cache, parent: '', spec: { op: 'copy', dest: '/' }, matches: matchSources(tree, ['.'], undefined, 'COPY .'), sourceId: 'context' });
}

/** The same key from a plain walk that hashes every file: no cache of any kind. */
async function plainKey(dir: string): Promise<string> {
  const tree = contextTree(dir, undefined, undefined);
  return copyStepKey({ context: tree, parent: '', spec: { op: 'copy', dest: '/' }, matches: matchSources(tree, ['.'], undefined, 'COPY .'), sourceId: 'context' });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Run `n` sequences side by side; returns the first disagreement (or undefined). Files get times
 * in the past first, so the caches have something to trust from the first aged check on.
 */
async function runCampaign(n: number, seed: number): Promise<string | undefined> {
  const sequences = fc.sample(sequenceArb, { seed, numRuns: n });
  const work = tempDir();
  const blobs = await openBlobStore(join(work, 'store'));
  const cache = openLayerCache(blobs);
  const cacheDir = join(work, 'store', 'context-cache');
  const dirs = sequences.map((_, i) => {
    const d = join(work, `ctx${i}`);
    mkdirSync(d);
    initialTree(d);
    return d;
  });
  // The contexts are checked 250 at a time: the alias writes wait on fsync, and overlap.
  const check = async (when: string, round: number): Promise<string | undefined> => {
    for (let from = 0; from < dirs.length; from += 250) {
      const batch = dirs.slice(from, from + 250).map(async (d, j) => {
        const i = from + j;
        const [a, b] = [await cachedKey(d, cacheDir, cache), await plainKey(d)];
        return a === b ? undefined : `seed ${seed}, sequence ${i}, ${when} check after round ${round}: cached key ${a.slice(0, 12)} != plain ${b.slice(0, 12)}; edits ${JSON.stringify(sequences[i].slice(0, round + 1))}`;
      });
      const failure = (await Promise.all(batch)).find((f) => f !== undefined);
      if (failure) return failure;
    }
    return undefined;
  };
  let failure = await check('first', -1);
  if (failure) return failure;
  await sleep(RACY_SLEEP_MS);
  if ((failure = await check('aged', -1))) return failure;
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < dirs.length; i++) applyEdit(dirs[i], sequences[i][round]);
    if ((failure = await check('racy', round))) return failure;
    await sleep(RACY_SLEEP_MS);
    if ((failure = await check('aged', round))) return failure;
  }
  return undefined;
}

describe('rebuild cache = plain walk and hash (property, random edit sequences)', () => {
  let seed: number;
  beforeAll(() => {
    seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
  });

  it(`holds for ${SEQUENCES} sequences of ${ROUNDS} edits (content, same size and mtime, mode, owner, rename, add, delete, symlink, hard link, dir <-> file)`, async () => {
    // an exception (an edit that could not be made) is a failure of this seed too
    const failure = await runCampaign(SEQUENCES, seed).catch((err: Error) => `seed ${seed}: ${err.stack ?? err.message}`);
    expect(failure, `replay with FC_SEED=${seed}`).toBeUndefined();
  }, 600_000);

  it('fails when the stat cache stops comparing ctime (a seeded bug: the racy trap goes through)', async () => {
    const saved = [...TRUSTED_STAT_FIELDS];
    TRUSTED_STAT_FIELDS.splice(TRUSTED_STAT_FIELDS.indexOf('ctimeMs'), 1);
    try {
      // Enough sequences that some hit the same-size-same-mtime edit on a trusted file.
      const failure = await runCampaign(60, seed);
      expect(failure).toMatch(/cached key .* != plain/);
    } finally {
      TRUSTED_STAT_FIELDS.splice(0, TRUSTED_STAT_FIELDS.length, ...saved);
    }
  }, 120_000);
});
