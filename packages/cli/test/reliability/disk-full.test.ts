// Issue 18, item 3: the store on a full filesystem. For each level of free space below what a
// command needs, on a filesystem of its own filled by a filler file until only that much is free,
// the command runs. It must end with one "no space" line (exit 2, NO_SPACE) and leave index.json
// as it was, no partial blob (every blob in blobs/ hashes to its name), nothing of its own in
// tmp/, and a clean `store check`. Then the filler goes (or the tmpfs is remounted bigger, after
// a `store gc` on the full filesystem) and the same command succeeds with the same image.
// CI tries one level per command, well short, on tmpfs. STRATA_RELIABILITY=full does it on tmpfs
// and on ext4 (a loop file: 1 KiB blocks, a journal, delayed allocation): it first runs each command
// with room to spare, to learn how many bytes it adds and the image it makes (the reruns must
// make the same), then sweeps levels from almost nothing to a few pages short, so the failing
// write falls on every kind of file (layers, config, manifest, index, cache records).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, isRoot, runStrata, startRegistry, tempDir, type CliResult, type RegistryServer } from '@strata/testing';
import { BASE, buildApp, filesDir, importBase, strataOk } from './fixtures';
import { corruptBlobs, FULL, STABLE_ENV, storeState, writeResult } from './harness';

const MB = 1 << 20;
const PAGE = 4096;
/** Each case's filesystem: ext4 keeps its journal out of it. */
type FsKind = 'tmpfs' | 'ext4';
const FS_MB: Record<FsKind, number> = { tmpfs: 40, ext4: 64 };
const FILESYSTEMS: FsKind[] = FULL ? ['tmpfs', 'ext4'] : ['tmpfs'];
/** The image that does not fit: two COPY layers of LAYER_MB each on the busybox base. */
const LAYER_MB = 8;

const mounts: string[] = [];
let work: string;
/** A store holding the base, copied onto each filesystem. */
let seedStore: string;
let registry: RegistryServer | undefined;
let archive: string;
const rows: Array<{ case: string; ran: number; failed: number; note?: string }> = [];
const figures: Record<string, { neededBytes: number; levels: number[]; noSpace: number; succeeded: number; completeBlobsLeft: number }> = {};

function mountFs(kind: FsKind, dir: string, sizeMb: number): void {
  mkdirSync(dir, { recursive: true });
  if (kind === 'tmpfs') execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0755`, 'strata-disk-full', dir]);
  else {
    execFileSync('truncate', ['-s', `${sizeMb}M`, `${dir}.img`]);
    // No blocks reserved for root: strata runs as root here and could write into them.
    execFileSync('mkfs.ext4', ['-q', '-F', '-m', '0', `${dir}.img`]);
    execFileSync('mount', ['-o', 'loop', `${dir}.img`, dir]);
  }
  mounts.push(dir);
}

function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir]);
  } catch {
    execFileSync('umount', ['-l', dir]);
  }
  mounts.splice(mounts.indexOf(dir), 1);
  rmSync(`${dir}.img`, { force: true });
}

/** What may still be written, once the journal has let go of what was freed. */
function freeBytes(dir: string): number {
  execFileSync('sync', ['-f', dir]);
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/**
 * A filler file beside the store so that `leave` bytes stay free (or a few blocks less: on ext4
 * the filler's own extent blocks count). With 0, it is topped up until a write fails.
 */
function fill(mnt: string, leave: number): string {
  const filler = join(mnt, 'filler');
  const n = freeBytes(mnt) - leave;
  if (n <= 0) return filler;
  for (const less of [0, 8 << 10, 64 << 10]) {
    try {
      execFileSync('fallocate', ['-l', String(n - less), filler], { stdio: 'ignore' });
      break;
    } catch (err) {
      rmSync(filler, { force: true });
      if (less === 64 << 10) throw err;
    }
  }
  if (leave === 0) {
    for (let i = 0; i < 256; i++) {
      try {
        appendFileSync(filler, Buffer.alloc(1024));
      } catch {
        break;
      }
    }
  }
  return filler;
}

/** Temp files, leases and scratch directories in ROOT/tmp. */
function tmpEntries(root: string): string[] {
  const dir = join(root, 'tmp');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** What is wrong with a failure that should be one "no space" line (and its hint). */
function noSpaceProblems(r: CliResult): string[] {
  const lines = r.stderr.trimEnd().split('\n');
  const out: string[] = [];
  if (r.code !== 2) out.push(`exit ${r.code}, not 2`);
  if (!/^strata: .*no space left on device/.test(lines[0] ?? '')) out.push(`message: ${JSON.stringify(lines[0])}`);
  if (lines.length !== 2 || !lines[1].startsWith('hint: free space on the filesystem of the store')) out.push(`${lines.length} lines: ${JSON.stringify(r.stderr)}`);
  return out;
}

async function checkProblems(root: string): Promise<string[]> {
  const check = await runStrata(['store', 'check'], { root, env: STABLE_ENV });
  return check.code === 0 && check.out === '' && /^checked \d+ blobs .*: ok\n$/.test(check.stderr) ? [] : [`store check: exit ${check.code}: ${check.out}${check.stderr}`];
}

interface DiskCase {
  name: string;
  args: string[];
  /** The tag the command makes. */
  tag: string;
  /** How the space comes back: the filler removed, or `store gc` and the tmpfs remounted bigger (ext4: the filler removed). */
  free: 'delete-filler' | 'remount';
  /** CI's level of free space, in MiB. */
  ciFreeMb: number;
  /** At least what it needs, in MiB (CI does not measure it). */
  needsMb: number;
  /** CI also tries `needed - N pages` (measured first, as the full run does). */
  ciPagesShort?: number;
}

const run = (root: string, args: string[]) => runStrata(args, { root, env: STABLE_ENV });
const manifestOf = (root: string, tag: string) => storeState(root).images.find((i) => i.tags.includes(tag))?.manifest;

async function onFs<T>(kind: FsKind, name: string, fn: (mnt: string, root: string) => Promise<T>): Promise<T> {
  const mnt = join(work, `${name.replace(/\W+/g, '-')}-${kind}`);
  mountFs(kind, mnt, FS_MB[kind]);
  try {
    const root = join(mnt, 'store');
    execFileSync('cp', ['-a', seedStore, root]);
    return await fn(mnt, root);
  } finally {
    unmount(mnt);
  }
}

/** One level of free space: the problems found (none is the goal). */
async function atLevel(c: DiskCase, kind: FsKind, level: number, expected: { manifest?: string; needed: number }): Promise<{ problems: string[]; noSpace: boolean; completeBlobsLeft: number }> {
  return onFs(kind, `${c.name}-${level}`, async (mnt, root) => {
    const index = readFileSync(join(root, 'index.json'), 'utf8');
    const state = storeState(root);
    const tmpBefore = tmpEntries(root);
    const filler = fill(mnt, level);
    const problems: string[] = [];
    const r = await run(root, c.args);
    let completeBlobsLeft = 0;
    if (r.code === 0) {
      // Enough after all (temp files and the store's own files are counted in `needed`): fine, if whole.
      if (level < expected.needed - 16 * PAGE) problems.push(`succeeded with ${level} bytes free, ${expected.needed} needed`);
    } else {
      problems.push(...noSpaceProblems(r));
      if (readFileSync(join(root, 'index.json'), 'utf8') !== index) problems.push('index.json changed');
      const after = storeState(root);
      if (JSON.stringify(after.images) !== JSON.stringify(state.images)) problems.push('images changed');
      completeBlobsLeft = after.blobs.filter((b) => !state.blobs.includes(b)).length;
      const left = tmpEntries(root).filter((n) => !tmpBefore.includes(n));
      if (left.length) problems.push(`left in tmp/: ${left.join(' ')}`);
    }
    for (const b of corruptBlobs(root)) problems.push(`corrupt blob ${b}`);
    problems.push(...(await checkProblems(root)));
    if (r.code !== 0) {
      if (c.free === 'delete-filler') rmSync(filler);
      else {
        // What the hint says to do, on the full filesystem: gc removes what the failed command
        // left (complete blobs nothing names). The other way keeps them for the rerun to reuse.
        const gc = await run(root, ['store', 'gc']);
        if (gc.code !== 0) problems.push(`store gc on the full filesystem: exit ${gc.code}: ${gc.stderr.trim()}`);
        if (kind === 'tmpfs') execFileSync('mount', ['-o', `remount,size=${FS_MB.tmpfs * 2}m`, mnt]);
        else rmSync(filler);
      }
      const again = await run(root, c.args);
      if (again.code !== 0) problems.push(`rerun: exit ${again.code}: ${again.stderr.trim()}`);
      for (const b of corruptBlobs(root)) problems.push(`after the rerun, corrupt blob ${b}`);
      problems.push(...(await checkProblems(root)).map((p) => `after the rerun, ${p}`));
    }
    const got = manifestOf(root, c.tag);
    if (got === undefined || (expected.manifest !== undefined && got !== expected.manifest)) problems.push(`${c.tag} is ${got}, expected ${expected.manifest ?? 'an image'}`);
    return { problems: problems.map((p) => `${level} bytes free: ${p}`), noSpace: r.code !== 0, completeBlobsLeft };
  });
}

async function diskCase(c: DiskCase): Promise<void> {
  const problems: string[] = [];
  for (const kind of FILESYSTEMS) problems.push(...(await onFilesystem(c, kind)));
  expect(problems).toEqual([]);
}

async function onFilesystem(c: DiskCase, kind: FsKind): Promise<string[]> {
  // What the command adds to a store with room to spare, and the image it makes (CI: more than the level).
  const measure = FULL || c.ciPagesShort !== undefined;
  const expected = measure
    ? await onFs(kind, `${c.name}-roomy`, async (mnt, root) => {
        const before = freeBytes(mnt);
        const r = await run(root, c.args);
        expect([r.code, r.stderr]).toEqual([0, '']);
        return { needed: before - freeBytes(mnt), manifest: manifestOf(root, c.tag)! };
      })
    : { needed: c.needsMb * MB };
  const levels = FULL
    ? [...[1 / 64, 1 / 4, 1 / 2, 3 / 4, 0.9, 0.97].map((f) => Math.floor((expected.needed * f) / PAGE) * PAGE), ...[64, 16, 4, 1].map((p) => expected.needed - p * PAGE)]
    : [c.ciFreeMb * MB, ...(c.ciPagesShort !== undefined ? [expected.needed - c.ciPagesShort * PAGE] : [])];
  const problems: string[] = [];
  let noSpace = 0;
  let completeBlobsLeft = 0;
  for (const level of levels) {
    const r = await atLevel(c, kind, level, expected);
    problems.push(...r.problems);
    if (r.noSpace) noSpace++;
    completeBlobsLeft += r.completeBlobsLeft;
  }
  const name = `${c.name} on ${kind}`;
  const freedBy = c.free === 'remount' ? (kind === 'tmpfs' ? 'store gc, then a remount' : 'store gc, then the filler removed') : 'the filler removed';
  figures[name] = { neededBytes: expected.needed, levels, noSpace, succeeded: levels.length - noSpace, completeBlobsLeft };
  rows.push({
    case: name,
    ran: levels.length,
    failed: new Set(problems.map((p) => p.split(':')[0])).size,
    note: `${levels.length} levels of free space below the ${(expected.needed / MB).toFixed(1)} MiB it needs${measure ? '' : ' (at least)'}: ${noSpace} ended NO_SPACE, ${levels.length - noSpace} fitted; space back by ${freedBy}`,
  });
  return problems.map((p) => `${kind}: ${p}`);
}

describe.skipIf(!isRoot())('the store on a full filesystem', () => {
  beforeAll(async () => {
    work = tempDir();
    seedStore = join(work, 'seed-store');
    await importBase(seedStore);
    // The image that does not fit, built on disk: as an archive to load and in the registry to pull.
    const disk = join(work, 'disk-store');
    execFileSync('cp', ['-a', seedStore, disk]);
    await buildApp(disk, work, { layers: 2, files: 4, size: (LAYER_MB * MB) / 4, tag: 'rel/big:1', seed: 7 });
    archive = join(work, 'big.tar');
    await strataOk(disk, ['image', 'save', '-o', archive, 'rel/big:1']);
    registry = await startRegistry('plain', join(work, 'registry'));
    await strataOk(disk, ['push', 'rel/big:1', `${registry.host}/rel/big:1`]);
  });

  afterAll(async () => {
    await registry?.stop();
    for (const m of [...mounts].reverse()) unmount(m);
    writeResult('disk', 'area', 'disk-full');
    writeResult('disk', 'command', 'STRATA_RELIABILITY=full npx vitest run packages/cli/test/reliability/disk-full.test.ts');
    writeResult('disk', 'rows', rows);
    writeResult('disk', 'method', `Each command runs on a filesystem of its own (${FILESYSTEMS.join(' and ')}) filled by a filler file until less is free than it needs, at ${FULL ? 'ten levels from 1/64 of what it needs to one block short' : 'one level'}. It must exit 2 with one NO_SPACE line (and its hint), leave index.json and the images as they were, every blob hashing to its name and nothing of its own in tmp/, with \`store check\` clean; then, once space is back (the filler removed, or \`store gc\` on the full filesystem and a remount), the same command succeeds with the same image.`);
    writeResult('disk', 'filesystem', `a filesystem per level of free space (${FILESYSTEMS.map((k) => `${k} of ${FS_MB[k]} MiB`).join(', ')}), filled by a filler file; load, pull and COPY bring ${2 * LAYER_MB} MiB over the busybox base, the RUNs write ${LAYER_MB} and ${2 * LAYER_MB} MiB`);
    writeResult('disk', 'cases', figures);
    cleanupTempDirs();
  });

  it('image load of an image larger than the free space', async () => {
    await diskCase({ name: 'image load', args: ['image', 'load', '-q', '-i', archive], tag: 'docker.io/rel/big:1', free: 'delete-filler', ciFreeMb: 12, needsMb: 2 * LAYER_MB });
  });

  // Regression: a page short, the image was in the index when writing the distribution cache
  // failed, and pull reported NO_SPACE for an image it had stored.
  it('image pull from the loopback registry', async () => {
    await diskCase({ name: 'image pull', args: ['pull', '-q', `${registry!.host}/rel/big:1`], tag: `${registry!.host}/rel/big:1`, free: 'remount', ciFreeMb: 6, needsMb: 2 * LAYER_MB, ciPagesShort: 1 });
  });

  it('store check and store gc take the lock on a filesystem with no space left (regression: the lock was a file)', async () => {
    // A complete blob nothing names, as a failed command leaves: what gc frees.
    const orphan = readFileSync(join(filesDir(join(work, 'orphan'), 1, 4 * MB, 12), 'f0'));
    const hex = createHash('sha256').update(orphan).digest('hex');
    for (const kind of FILESYSTEMS) {
      await onFs(kind, 'no-space-at-all', async (mnt, root) => {
        writeFileSync(join(root, 'blobs', 'sha256', hex), orphan);
        fill(mnt, 0);
        // Space is given out in whole blocks: a file of any content no longer fits.
        expect(() => writeFileSync(join(mnt, 'probe'), 'x')).toThrow(/ENOSPC/);
        const problems = await checkProblems(root);
        const gc = await run(root, ['--format', 'json', 'store', 'gc']);
        const tag = await run(root, ['image', 'tag', BASE, 'rel/after-gc:1']);
        rows.push({ case: `lock, check and gc with 0 bytes free on ${kind}`, ran: 1, failed: problems.length + (gc.code === 0 ? 0 : 1) + (tag.code === 0 ? 0 : 1) });
        expect(problems).toEqual([]);
        expect([gc.code, gc.stderr]).toEqual([0, '']);
        expect((JSON.parse(gc.out) as { blobs: string[] }).blobs).toEqual([`sha256:${hex}`]);
        // what gc freed lets the index be written again
        expect([tag.code, tag.stderr]).toEqual([0, '']);
      });
    }
  });

  it('build: COPY of a context larger than the free space', async () => {
    const ctx = join(work, 'copy-context');
    filesDir(join(ctx, 'big'), 4, (2 * LAYER_MB * MB) / 4, 11);
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${BASE}\nCOPY big /big\n`);
    await diskCase({ name: 'build COPY', args: ['build', '-q', '-t', 'rel/copy:1', ctx], tag: 'docker.io/rel/copy:1', free: 'delete-filler', ciFreeMb: 12, needsMb: 2 * LAYER_MB });
  });

  it('build: RUN whose layer does not fit beside its writable layer', async () => {
    const ctx = join(work, 'run-layer-context');
    mkdirSync(ctx, { recursive: true });
    // 8 MiB in the writable layer fit in 12; the 8 MiB layer blob written from it then does not.
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${BASE}\nRUN dd if=/dev/zero of=/big bs=1M count=${LAYER_MB}\n`);
    await diskCase({ name: 'build RUN layer', args: ['build', '-q', '-t', 'rel/run-layer:1', ctx], tag: 'docker.io/rel/run-layer:1', free: 'remount', ciFreeMb: 12, needsMb: 2 * LAYER_MB });
  });

  it('build: RUN writing more than the free space (regression: reported as NO_SPACE, not as the process failing)', async () => {
    const ctx = join(work, 'run-context');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${BASE}\nRUN dd if=/dev/zero of=/big bs=1M count=${2 * LAYER_MB}\n`);
    await diskCase({ name: 'build RUN', args: ['build', '-q', '-t', 'rel/run:1', ctx], tag: 'docker.io/rel/run:1', free: 'delete-filler', ciFreeMb: 12, needsMb: 2 * LAYER_MB });
  });
});
