import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { createHash, randomFillSync } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pack as tarPack } from 'tar-stream';
import { cleanupTempDirs, runStrata, STRATA_BIN, tempDir } from '@strata/testing';

afterAll(() => cleanupTempDirs());

const LAYERS = 5;
const LAYER_MB = 40;

/** A legacy docker-archive of LAYERS layers of random bytes, written to disk without holding it in memory. */
async function bigArchive(file: string): Promise<string> {
  const fd = openSync(file, 'w');
  const pack = tarPack();
  pack.on('data', (b: unknown) => writeSync(fd, b as Buffer));
  const ended = new Promise<void>((r) => pack.on('end', () => r()));
  const entry = (name: string, data: Buffer) => new Promise<void>((res, rej) => pack.entry({ name, size: data.length, mtime: new Date(0) }, data, (e) => (e ? rej(e) : res())));
  const diffIds: string[] = [];
  for (let i = 0; i < LAYERS; i++) {
    // each layer: a tar with one random file
    const inner = tarPack();
    const chunks: Buffer[] = [];
    inner.on('data', (b: unknown) => chunks.push(b as Buffer));
    const innerEnd = new Promise<void>((r) => inner.on('end', () => r()));
    inner.entry({ name: `f${i}`, size: LAYER_MB << 20, mtime: new Date(0) }, randomFillSync(Buffer.alloc(LAYER_MB << 20)));
    inner.finalize();
    await innerEnd;
    const layer = Buffer.concat(chunks);
    diffIds.push(`sha256:${createHash('sha256').update(layer).digest('hex')}`);
    await entry(`l${i}/layer.tar`, layer);
  }
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } }));
  await entry('c.json', config);
  await entry('manifest.json', Buffer.from(JSON.stringify([{ Config: 'c.json', RepoTags: ['strata-it-formats/crash:1'], Layers: diffIds.map((_, i) => `l${i}/layer.tar`) }])));
  pack.finalize();
  await ended;
  closeSync(fd);
  return `sha256:${createHash('sha256').update(config).digest('hex')}`;
}

const sha = (p: string) => `sha256:${createHash('sha256').update(readFileSync(p)).digest('hex')}`;

/** Every manifest index.json names is complete and every blob it reaches hashes to its name. */
function verifyStore(root: string): { images: string[] } {
  if (!existsSync(join(root, 'index.json'))) return { images: [] };
  const blob = (d: string) => join(root, 'blobs', 'sha256', d.slice(7));
  const check = (d: string) => {
    expect(existsSync(blob(d)), `blob ${d} missing`).toBe(true);
    expect(sha(blob(d))).toBe(d);
  };
  const index = JSON.parse(readFileSync(join(root, 'index.json'), 'utf8'));
  const images: string[] = [];
  for (const m of index.manifests) {
    check(m.digest);
    const manifest = JSON.parse(readFileSync(blob(m.digest), 'utf8'));
    check(manifest.config.digest);
    for (const l of manifest.layers) check(l.digest);
    images.push(manifest.config.digest);
  }
  return { images };
}

/** Start a load; kill it with SIGKILL when `when` says so (polled every few ms). */
function loadAndKill(root: string, file: string, when: (elapsedMs: number) => boolean): Promise<{ killed: boolean; code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [STRATA_BIN, '--root', root, 'image', 'load', '-i', file], { stdio: 'ignore' });
    const t0 = Date.now();
    let killed = false;
    const timer = setInterval(() => {
      if (!killed && when(Date.now() - t0)) {
        killed = child.kill('SIGKILL');
      }
    }, 5);
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      resolve({ killed, code, signal });
    });
  });
}

/**
 * Start a load that stops at commit checkpoint `point` (STRATA_TEST_PAUSE_AT); once it says it is
 * there (its marker file), SIGKILL it. Resolves with what the marker said and how the process ended.
 */
function loadAndKillAt(root: string, file: string, point: string): Promise<{ pid: number | undefined; marker: string; signal: NodeJS.Signals | null; code: number | null }> {
  const markerFile = join(tempDir(), 'paused');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [STRATA_BIN, '--root', root, 'image', 'load', '-i', file], {
      stdio: 'ignore',
      env: { ...process.env, STRATA_TEST_PAUSE_AT: point, STRATA_TEST_PAUSE_FILE: markerFile },
    });
    let marker = '';
    const timer = setInterval(() => {
      if (marker === '' && existsSync(markerFile)) {
        marker = readFileSync(markerFile, 'utf8');
        child.kill('SIGKILL');
      }
    }, 5);
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      resolve({ pid: child.pid, marker, signal, code });
    });
  });
}

function count(dir: string): number {
  try {
    return readdirSync(dir).length;
  } catch {
    return 0;
  }
}

describe('crash safety: SIGKILL during image load', () => {
  let file: string;
  let id: string;
  let small: Buffer;
  beforeAll(async () => {
    const p = tarPack();
    const chunks: Buffer[] = [];
    p.on('data', (b: unknown) => chunks.push(b as Buffer));
    const end = new Promise<void>((r) => p.on('end', () => r()));
    p.entry({ name: 'hello', size: 5, mtime: new Date(0) }, 'hello');
    p.finalize();
    await end;
    small = Buffer.concat(chunks);
    file = join(tempDir(), 'big.tar');
    id = await bigArchive(file);
  }, 120_000);

  // Staging: polled, and slow enough (5 × 40 MB) to be hit every time.
  const staging: Array<[string, (root: string) => (ms: number) => boolean]> = [
    ['right after start', () => (ms) => ms > 20],
    ['while staging the first layer', (root) => () => count(join(root, 'tmp')) > 0 && readdirSync(join(root, 'tmp')).some((n) => n.startsWith('load-') && count(join(root, 'tmp', n)) >= 1)],
    ['while staging later layers', (root) => () => existsSync(join(root, 'tmp')) && readdirSync(join(root, 'tmp')).some((n) => n.startsWith('load-') && count(join(root, 'tmp', n)) >= 4)],
  ];
  // Commit: the load stops at the checkpoint and is killed there; `blobs` is how many of its layers
  // are in the store by then, `indexed` whether the image is recorded.
  const commit: Array<{ point: string; blobs: number; indexed: boolean }> = [
    { point: 'locked', blobs: 0, indexed: false },
    { point: 'layer-moved:1', blobs: 1, indexed: false },
    { point: 'layer-moved:3', blobs: 3, indexed: false },
    { point: 'layers-moved', blobs: LAYERS, indexed: false },
    { point: 'image-stored:1', blobs: LAYERS, indexed: true },
  ];

  /** Half the cases start from an empty root, half from a store that already holds an image. */
  async function startingStore(existing: boolean): Promise<{ root: string; before: string[] }> {
    const root = tempDir();
    if (existing) expect((await runStrata(['image', 'import', '-', 'strata-it-formats/keep:1'], { root, input: small })).code).toBe(0);
    const before = existing ? verifyStore(root).images : [];
    expect(before).toHaveLength(existing ? 1 : 0);
    return { root, before };
  }

  /** After the kill: the store checks clean, the image is all there or absent, and a rerun loads it. */
  async function checkAfterKill(root: string, before: string[]): Promise<void> {
    const { images } = verifyStore(root);
    const added = images.filter((i) => !before.includes(i));
    expect(added.length === 0 || (added.length === 1 && added[0] === id)).toBe(true);
    for (const b of before) expect(images).toContain(b);
    if (before.length > 0 || existsSync(join(root, 'index.json'))) {
      const check = await runStrata(['store', 'check'], { root });
      expect(check.code, check.stderr + check.out).toBe(0);
      expect(check.stderr).toMatch(/: ok\n$/);
    }
    const again = await runStrata(['-q', 'image', 'load', '-i', file], { root });
    expect([again.code, again.stderr, again.out.trim()]).toEqual([0, '', id]);
    expect(verifyStore(root).images).toContain(id);
  }

  for (const [i, [name, when]] of staging.entries()) {
    it(`killed ${name}: the store checks clean and the image is all there or absent`, async () => {
      const { root, before } = await startingStore(i % 2 === 1);
      const r = await loadAndKill(root, file, when(root));
      expect([r.killed, r.signal]).toEqual([true, 'SIGKILL']);
      await checkAfterKill(root, before);
    });
  }

  for (const [i, c] of commit.entries()) {
    it(`killed at commit checkpoint ${c.point}: the store checks clean and the image is all there or absent`, async () => {
      const { root, before } = await startingStore(i % 2 === 0);
      const blobsBefore = count(join(root, 'blobs', 'sha256'));
      const r = await loadAndKillAt(root, file, c.point);
      // it really stopped there, and died of the kill
      expect([r.marker, r.signal, r.code]).toEqual([`${r.pid} ${c.point}\n`, 'SIGKILL', null]);
      // 'image-stored' adds the manifest and config blobs beside the layers
      expect(count(join(root, 'blobs', 'sha256')) - blobsBefore).toBe(c.blobs + (c.indexed ? 2 : 0));
      expect(verifyStore(root).images.includes(id)).toBe(c.indexed);
      await checkAfterKill(root, before);
    });
  }
});
