// Issue 18, item 5: path safety against races (the CVE-2018-15664 class). While an operation
// runs over a directory tree, a racer process (races-flipper.py) swaps a directory of that tree
// with a symlink to a canary directory outside and back (atomic exchanges), in a tight bounded
// loop. Writers (applyLayer as snapshots and volume import use it, `strata layer apply`) must
// never change the canary: its tree hash is checked after every attempt. Readers (`container
// export`, `container commit`, `volume export`, volume copy-up at `container create`) must never
// read it: the canary's files hold a marker that must not appear in what they produce. An
// operation may fail under the race (the tree changed under it); it must not escape. `strata
// build` reads its context so: no layer it writes may hold the canary's bytes or names. CI runs
// a few attempts per case; STRATA_RELIABILITY=full many more.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writableLayer } from '@strata/cow';
import { applyLayer } from '@strata/tar';
import { busyboxRootfsTar, cleanupTempDirs, hashTree, isRoot, peerAvailable, runStrata, tempDir } from '@strata/testing';
import { strataOk, tarOf } from './fixtures';
import { FULL, STABLE_ENV, unmountUnder, writeResult } from './harness';

const FLIPPER = fileURLToPath(new URL('./races-flipper.py', import.meta.url));
/** Attempts per case: CI / full. */
const N = (ci: number, full: number) => (FULL ? full : ci);
const MARKER = `CANARY-${randomBytes(8).toString('hex')}`;
const rows: Array<{ case: string; ran: number; failed: number; note?: string }> = [];
/**
 * A file's content: every file of a case, real or canary, has the same size, so a reader that
 * reads a canary file in place of a real one gets all of it (a size mismatch would stop it first).
 */
const content = (what: string, name: string) => `${`${what} ${name}`.padEnd(80, '.')}\n`;

let work: string;

beforeAll(() => {
  work = tempDir('strata-races-');
});

afterAll(() => {
  writeResult('races', 'area', 'path races');
  writeResult('races', 'command', 'STRATA_RELIABILITY=full npx vitest run packages/cli/test/reliability/races.test.ts');
  writeResult('races', 'rows', rows);
  unmountUnder(work);
  cleanupTempDirs();
});

/** A canary directory outside every tree: `names` files holding the marker. Returns its path and hash. */
function makeCanary(dir: string, names: string[]): { dir: string; hash: string } {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const n of names) writeFileSync(join(dir, n), content(MARKER, n));
  return { dir, hash: hashTree(dir) };
}

/**
 * Start the racer on DIR/NAME; the directory waits in `hold` (same filesystem, outside the tree
 * the operation walks). `stop()` ends it and resolves to the number of swaps it made.
 */
function startFlipper(dir: string, name: string, target: string, hold = dirname(dir)): { stop: () => Promise<number> } {
  const stopFile = join(work, `stop-${randomBytes(4).toString('hex')}`);
  const child = spawn('python3', [FLIPPER, dir, name, target, hold, stopFile, String(FULL ? 1_800_000 : 120_000), String(100_000_000)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number>((resolve) => child.on('close', () => resolve(Number(out.trim()) || 0)));
  return {
    stop: async () => {
      writeFileSync(stopFile, '');
      return exited;
    },
  };
}

/**
 * One case: the racer swaps `flip.dir`/`flip.name` with a symlink to `flip.target` while
 * `attempt` runs `attempts` times; each attempt says whether it failed (allowed under the race)
 * and whether anything escaped. The row is recorded (errors counted as `errorsAre`); the number
 * of escapes is returned.
 */
async function race(
  label: string,
  attempts: number,
  flip: { dir: string; name: string; target: string; hold?: string },
  errorsAre: string,
  attempt: (i: number) => Promise<{ failed: boolean; escaped: boolean }>,
): Promise<number> {
  let escapes = 0;
  let errors = 0;
  const racer = startFlipper(flip.dir, flip.name, flip.target, flip.hold);
  try {
    for (let i = 0; i < attempts; i++) {
      const { failed, escaped } = await attempt(i);
      if (failed) errors++;
      if (escaped) escapes++;
    }
  } finally {
    const flips = await racer.stop();
    rows.push({ case: label, ran: attempts, failed: escapes, note: `${flips} swaps; ${errors} ${errorsAre}` });
  }
  return escapes;
}

/** Names of the files a case's tree and its canary hold. */
const NAMES = Array.from({ length: 40 }, (_, i) => `f${i}`);

/** A layer tar: directory `a/` with `files` files, a subdirectory, a symlink, a hardlink, a FIFO, and a whiteout of `a/victim`. */
function raceLayer(dir: string, files: number): Buffer {
  const src = join(dir, 'src');
  rmSync(src, { recursive: true, force: true });
  mkdirSync(join(src, 'a', 'sub'), { recursive: true });
  for (let i = 0; i < files; i++) writeFileSync(join(src, 'a', `f${i}`), content('layer', `f${i}`));
  for (let i = 0; i < 20; i++) writeFileSync(join(src, 'a', 'sub', `g${i}`), `layer sub ${i}\n`);
  writeFileSync(join(src, 'a', '.wh.victim'), '');
  const tar = join(dir, 'layer.tar');
  tarOf(src, tar);
  return readFileSync(tar);
}

/** The names a write through the swapped directory would touch: the layer's own and the whiteout's victim. */
const layerNames = (files: number) => ['victim', ...Array.from({ length: files }, (_, i) => `f${i}`)];

describe('path races: writers stay inside their root', () => {
  it('applyLayer (snapshots, volume import, layer apply)', async () => {
    const files = 150;
    const dir = join(work, 'apply');
    mkdirSync(dir, { recursive: true });
    const tar = raceLayer(dir, files);
    const canary = makeCanary(join(work, 'canary-apply'), layerNames(files));
    const dest = join(dir, 'root');
    mkdirSync(dest);
    // `a` exists before the first attempt: the racer has something to swap from the start.
    await applyLayer(dest, Readable.from([tar]));
    const escapes = await race('applyLayer (in process)', N(25, 600), { dir: dest, name: 'a', target: canary.dir }, 'attempts ended with an error', async (i) => {
      const failed = await applyLayer(dest, Readable.from([tar]), { whiteouts: i % 3 === 2 ? 'overlay' : 'apply' }).then(
        () => false,
        () => true,
      );
      const escaped = hashTree(canary.dir) !== canary.hash;
      if (escaped) makeCanary(canary.dir, layerNames(files));
      return { failed, escaped };
    });
    expect(escapes).toBe(0);
  }, 600_000);

  it('strata layer apply', async () => {
    const files = 150;
    const dir = join(work, 'apply-cli');
    mkdirSync(dir, { recursive: true });
    raceLayer(dir, files);
    const canary = makeCanary(join(work, 'canary-apply-cli'), layerNames(files));
    const dest = join(dir, 'root');
    mkdirSync(dest);
    await strataOk(dir, ['layer', 'apply', dest, '-i', join(dir, 'layer.tar')]);
    const escapes = await race('strata layer apply', N(4, 60), { dir: dest, name: 'a', target: canary.dir }, 'runs exited non-zero', async () => {
      const r = await runStrata(['layer', 'apply', dest, '-i', join(dir, 'layer.tar')], { root: join(dir, 'store'), env: STABLE_ENV });
      const escaped = hashTree(canary.dir) !== canary.hash;
      if (escaped) makeCanary(canary.dir, layerNames(files));
      return { failed: r.code !== 0, escaped };
    });
    expect(escapes).toBe(0);
  }, 600_000);
});

/** Whether any blob of the store at `root` holds `what` (the layers a build wrote, and their configs). */
function blobsHold(root: string, what: string): boolean {
  const dir = join(root, 'blobs', 'sha256');
  if (!existsSync(dir)) return false;
  return readdirSync(dir).some((name) => readFileSync(join(dir, name)).includes(what));
}

describe('path races: COPY reads nothing outside the context', () => {
  it('strata build: COPY . / and ADD of a directory', async () => {
    // The canary has a name the context lacks: a walk steered into it would list it.
    const canary = makeCanary(join(work, 'canary-copy'), [...NAMES, 'canary-only']);
    const ctx = join(work, 'copy-context');
    mkdirSync(join(ctx, 'x', 'deeper'), { recursive: true });
    for (const n of NAMES) writeFileSync(join(ctx, 'x', n), content('context', n));
    for (const n of NAMES.slice(0, 5)) writeFileSync(join(ctx, 'x', 'deeper', n), content('context', n));
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY . /all/\nADD x /x/\n');
    const root = join(work, 'store-copy');
    const escapes = await race('strata build (COPY, ADD)', N(8, 100), { dir: ctx, name: 'x', target: canary.dir }, 'builds exited non-zero', async () => {
      // --no-cache: every attempt walks, hashes and writes the layers again (the stat cache stays)
      const r = await runStrata(['build', '--no-cache', '-q', '-t', 'racy', ctx], { root, env: STABLE_ENV });
      return { failed: r.code !== 0, escaped: blobsHold(root, MARKER) || blobsHold(root, 'canary-only') || hashTree(canary.dir) !== canary.hash };
    });
    expect(escapes).toBe(0);
  }, 600_000);
});

describe.runIf(isRoot() && (peerAvailable('runc') || peerAvailable('crun')))('path races: RUN bind mounts nothing outside the context', () => {
  it('strata build: RUN --mount=type=bind', async () => {
    const canary = makeCanary(join(work, 'canary-bind'), NAMES);
    const ctx = join(work, 'bind-context');
    mkdirSync(join(ctx, 'x'), { recursive: true });
    for (const n of NAMES) writeFileSync(join(ctx, 'x', n), content('context', n));
    // read-only and read-write (a throwaway overlay over the source): neither may reach the canary
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM races/busybox:1\nRUN --mount=type=bind,source=x,target=/m cat /m/* > /out-ro\nRUN --mount=type=bind,source=x,target=/m,rw cat /m/* > /out-rw\n');
    const root = join(work, 'store-bind');
    await strataOk(root, ['image', 'import', busyboxRootfsTar(), 'races/busybox:1']);
    const escapes = await race('strata build (RUN --mount=type=bind)', N(4, 40), { dir: ctx, name: 'x', target: canary.dir }, 'builds exited non-zero', async () => {
      const r = await runStrata(['build', '--no-cache', '-q', '-t', 'racy', ctx], { root, env: STABLE_ENV });
      return { failed: r.code !== 0, escaped: blobsHold(root, MARKER) || hashTree(canary.dir) !== canary.hash };
    });
    expect(escapes).toBe(0);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain('strata-bind');
  }, 600_000);
});

describe('path races: volume export reads nothing outside', () => {
  it('strata volume export', async () => {
    const canary = makeCanary(join(work, 'canary-volume'), NAMES);
    const root = join(work, 'store-volume');
    await strataOk(root, ['volume', 'create', 'racy']);
    const mp = JSON.parse((await strataOk(root, ['volume', 'inspect', 'racy'])).out)[0].Mountpoint as string;
    mkdirSync(join(mp, 'x'));
    for (const n of NAMES) writeFileSync(join(mp, 'x', n), content('volume', n));
    const escapes = await race('strata volume export', N(4, 60), { dir: mp, name: 'x', target: canary.dir }, 'runs exited non-zero', async () => {
      const r = await runStrata(['volume', 'export', 'racy'], { root, env: STABLE_ENV });
      return { failed: r.code !== 0, escaped: r.stdout.includes(MARKER) || hashTree(canary.dir) !== canary.hash };
    });
    expect(escapes).toBe(0);
  }, 600_000);
});

describe.runIf(isRoot())('path races: readers read nothing outside', () => {
  const dataNames = NAMES;
  let root: string;
  const image = 'races/data:1';

  beforeAll(async () => {
    root = join(work, 'store');
    // An image whose /data/x holds the files of NAMES; the canary holds the same names.
    const rootfs = join(work, 'image-rootfs');
    mkdirSync(join(rootfs, 'data', 'x'), { recursive: true });
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    for (const n of dataNames) writeFileSync(join(rootfs, 'data', 'x', n), content('real', n));
    writeFileSync(join(rootfs, 'bin', 'sh'), '#!/bin/false\n', { mode: 0o755 });
    await strataOk(root, ['image', 'import', '--change', 'CMD ["sh"]', tarOf(rootfs, join(work, 'image.tar')), image]);
  }, 120_000);

  /** The directory of the snapshot whose tree holds data/x. */
  const snapshotWithData = (): string => {
    const base = join(root, 'snapshots');
    for (const n of readdirSync(base)) if (existsSync(join(base, n, 'fs', 'data', 'x'))) return join(base, n, 'fs');
    throw new Error('no snapshot holds data/x');
  };

  /**
   * A container on the image whose writable layer holds data/x with files of its own (what it
   * wrote: upper/data/x with overlay, the copied rootfs's with the copying fallback), and the
   * racer's swap for it: data/x of that layer, waiting in the layer's directory.
   */
  const containerWithData = async (cow: 'overlay' | 'copy', target: string): Promise<{ id: string; flip: { dir: string; name: string; target: string; hold: string } }> => {
    const created = await strataOk(root, ['container', 'create', image], { STRATA_COW: cow });
    const id = created.out.trim().split('\n').pop()!;
    const w = writableLayer(root, id);
    mkdirSync(join(w.upperdir, 'data', 'x'), { recursive: true });
    for (const n of dataNames) writeFileSync(join(w.upperdir, 'data', 'x', n), content('written', n));
    return { id, flip: { dir: join(w.upperdir, 'data'), name: 'x', target, hold: w.dir } };
  };

  for (const cow of ['overlay', 'copy'] as const) {
    it(`container export (${cow})`, async () => {
      const canary = makeCanary(join(work, `canary-export-${cow}`), dataNames);
      const { id, flip } = await containerWithData(cow, canary.dir);
      const escapes = await race(`container export (${cow})`, N(3, 40), flip, 'runs exited non-zero', async () => {
        const r = await runStrata(['container', 'export', id], { root, env: STABLE_ENV });
        return { failed: r.code !== 0, escaped: r.stdout.includes(MARKER) || hashTree(canary.dir) !== canary.hash };
      });
      expect(escapes).toBe(0);
    }, 600_000);

    it(`container diff (${cow})`, async () => {
      // a name only the canary has: a listing steered into it would show it
      const canary = makeCanary(join(work, `canary-diff-${cow}`), [...dataNames, 'canary-only']);
      const { id, flip } = await containerWithData(cow, canary.dir);
      const escapes = await race(`container diff (${cow})`, N(8, 60), flip, 'runs exited non-zero', async () => {
        const r = await runStrata(['container', 'diff', id], { root, env: STABLE_ENV });
        return { failed: r.code !== 0, escaped: r.stdout.includes('canary-only') || hashTree(canary.dir) !== canary.hash };
      });
      expect(escapes).toBe(0);
    }, 600_000);

    it(`container commit (${cow})`, async () => {
      const canary = makeCanary(join(work, `canary-commit-${cow}`), dataNames);
      const { id, flip } = await containerWithData(cow, canary.dir);
      const blobs = join(root, 'blobs', 'sha256');
      const seen = new Set(readdirSync(blobs));
      const escapes = await race(`container commit (${cow})`, N(3, 40), flip, 'runs exited non-zero', async (i) => {
        const r = await runStrata(['container', 'commit', id, `races/commit-${cow}:${i}`], { root, env: STABLE_ENV });
        // layers are stored uncompressed: a new blob holding the marker is the canary read in
        const fresh = readdirSync(blobs).filter((b) => !seen.has(b));
        for (const b of fresh) seen.add(b);
        return { failed: r.code !== 0, escaped: fresh.some((b) => readFileSync(join(blobs, b)).includes(MARKER)) || hashTree(canary.dir) !== canary.hash };
      });
      expect(escapes).toBe(0);
    }, 600_000);

    it(`volume copy-up at container create (${cow})`, async () => {
      const canary = makeCanary(join(work, `canary-copyup-${cow}`), dataNames);
      // The snapshot exists once a container stands on the image.
      await strataOk(root, ['container', 'create', image], { STRATA_COW: cow });
      const snap = snapshotWithData();
      const flip = { dir: join(snap, 'data'), name: 'x', target: canary.dir, hold: dirname(snap) };
      const escapes = await race(`volume copy-up (${cow})`, N(3, 40), flip, 'creates exited non-zero', async (i) => {
        const vol = `races-${cow}-${i}`;
        const r = await runStrata(['container', 'create', '-v', `${vol}:/data`, image], { root, env: { ...STABLE_ENV, STRATA_COW: cow } });
        if (r.code !== 0) return { failed: true, escaped: false };
        const mp = JSON.parse((await strataOk(root, ['volume', 'inspect', vol])).out)[0].Mountpoint as string;
        const copied = join(mp, 'x');
        // x copied as the symlink it was for a moment is right; a file holding the marker is not.
        const leaked = lstatSync(copied, { throwIfNoEntry: false })?.isDirectory() === true && readdirSync(copied).some((n) => lstatSync(join(copied, n)).isFile() && readFileSync(join(copied, n), 'utf8').includes(MARKER));
        return { failed: false, escaped: leaked || hashTree(canary.dir) !== canary.hash };
      });
      expect(escapes).toBe(0);
    }, 600_000);
  }
});
