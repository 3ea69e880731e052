import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { layerFromTarFile, readAll, type Layer } from '@strata/layer';
import { readTar, writeTar, type TarWriteEntry } from '@strata/tar';
import { runProcess } from '@strata/runtime';
import { busyboxRootfsTar, cleanupTempDirs, peerAvailable, tempDir } from '@strata/testing';
import { hostEnv, setHostEnv } from '@strata/host-tools';
import { createWritableLayer, listSnapshots, listWritableLayers, recoverWritableLayers, removeWritableLayer, runOnLayers, snapshotUnpackCount } from '../src/index';

async function tarFile(dir: string, name: string, entries: TarWriteEntry[]): Promise<Layer> {
  const file = join(dir, name);
  writeFileSync(file, await readAll(writeTar(entries)));
  return layerFromTarFile(file);
}

async function entriesOf(layer: Layer): Promise<string[]> {
  const out: string[] = [];
  for await (const { entry, body } of readTar(await layer.uncompressed())) {
    for await (const _ of body) void _;
    out.push(`${entry.type} ${entry.path}${entry.linkname ? ` -> ${entry.linkname}` : ''}`);
  }
  return out;
}

function mountsUnder(root: string): string[] {
  return readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(root));
}

const M = 1_700_000_000;
const D = (path: string): TarWriteEntry => ({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: M });
const F = (path: string, data: string): TarWriteEntry => ({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: M, data });

describe.skipIf(!peerAvailable('runc'))('runOnLayers + runProcess (overlay, runc)', () => {
  const work = tempDir();
  const root = join(work, 'store');
  afterAll(() => {
    cleanupTempDirs();
  });

  it('runs on a layer stack, captures the upper dir with OCI whiteouts, shares snapshots', async () => {
    const base = layerFromTarFile(busyboxRootfsTar());
    const l2 = await tarFile(work, 'l2.tar', [D('data'), F('data/a', 'a'), F('data/b', 'b'), D('gone'), F('gone/x', 'x'), D('opq'), F('opq/old', 'old')]);
    const l3 = await tarFile(work, 'l3.tar', [F('.wh.gone', ''), D('opq'), F('opq/.wh..wh..opq', ''), F('opq/new', 'new')]);
    const before = snapshotUnpackCount();
    let out = '';
    const sink = new PassThrough();
    sink.on('data', (b: Buffer) => (out += b.toString()));
    const r = await runOnLayers({
      root,
      layers: [base, l2, l3],
      exec: (c) =>
        runProcess({
          ...c,
          args: ['sh', '-c', 'ls /opq; test -e /gone && echo BAD; echo hi > /data/a; rm /data/b; mkdir -p /new/dir; rm -r /opq; mkdir /opq; echo z > /opq/z; exit 3'],
          network: 'none',
          stdout: sink,
          stderr: 'inherit',
        }),
      layerOnFailure: true,
    });
    expect(snapshotUnpackCount() - before).toBe(3);
    expect(r.exitCode).toBe(3);
    expect(out.trim()).toBe('new');
    expect(r.changes.map((c) => `${{ add: 'A', modify: 'C', delete: 'D' }[c.kind]} ${c.path}`)).toEqual([
      'C /data', 'C /data/a', 'D /data/b', 'A /new', 'A /new/dir', 'C /opq', 'D /opq/new', 'A /opq/z',
    ]);
    const entries = await entriesOf(r.layer!);
    expect(entries).toEqual(['dir data', 'file data/a', 'file data/.wh.b', 'dir new', 'dir new/dir', 'dir opq', 'file opq/.wh..wh..opq', 'file opq/z']);
    // whole-second mtimes, as BuildKit's and Docker's diff writers keep them: no PAX header for a time
    const mtimes: number[] = [];
    for await (const { entry, body } of readTar(await r.layer!.uncompressed())) {
      for await (const _ of body) void _;
      mtimes.push(entry.mtime);
    }
    expect(mtimes.filter((t) => !Number.isInteger(t))).toEqual([]);
    expect(readFileSync(r.layer!.path).includes('PaxHeaders')).toBe(false);
    await r.cleanup();
    expect(listWritableLayers(root)).toEqual([]);
    expect(mountsUnder(root)).toEqual([]);

    // Same base again: nothing is unpacked.
    const again = await runOnLayers({ root, layers: [base, l2], exec: (c) => runProcess({ ...c, args: ['true'], stdout: 'ignore' }) });
    expect(snapshotUnpackCount() - before).toBe(3);
    expect(again.exitCode).toBe(0);
    expect(again.changes).toEqual([]);
    await again.cleanup();
    expect(listSnapshots(root)).toHaveLength(3);
    expect(await recoverWritableLayers(root)).toEqual({ removed: [], tmpDirs: 0 });
  });

  it('copying fallback (STRATA_COW=copy) gives the same changes, deletions as whiteouts', async () => {
    const base = layerFromTarFile(busyboxRootfsTar());
    const l2 = await tarFile(work, 'c2.tar', [D('data'), F('data/a', 'a'), F('data/b', 'b'), D('opq'), F('opq/old', 'old')]);
    const l3 = await tarFile(work, 'c3.tar', [D('opq'), F('opq/.wh..wh..opq', ''), F('opq/new', 'new')]);
    setHostEnv({ ...hostEnv(), STRATA_COW: 'copy' });
    try {
      let out = '';
      const sink = new PassThrough();
      sink.on('data', (b: Buffer) => (out += b.toString()));
      const r = await runOnLayers({
        root,
        layers: [base, l2, l3],
        exec: (c) => {
          expect('path' in c.rootfs).toBe(true);
          return runProcess({
            ...c,
            args: ['sh', '-c', 'ls /opq; echo hi > /data/a; rm /data/b; mkdir -p /new/dir; rm -r /opq; mkdir /opq; echo z > /opq/z'],
            stdout: sink,
          });
        },
      });
      expect(r.exitCode).toBe(0);
      expect(out.trim()).toBe('new');
      expect(r.changes.map((c) => `${{ add: 'A', modify: 'C', delete: 'D' }[c.kind]} ${c.path}`)).toEqual([
        'C /data', 'C /data/a', 'D /data/b', 'A /new', 'A /new/dir', 'C /opq', 'D /opq/new', 'A /opq/z',
      ]);
      expect(await entriesOf(r.layer!)).toEqual(['dir data', 'file data/.wh.b', 'file data/a', 'dir new', 'dir new/dir', 'dir opq', 'file opq/.wh.new', 'file opq/z']);
      await r.cleanup();
      expect(listWritableLayers(root)).toEqual([]);
    } finally {
      setHostEnv({ ...hostEnv(), STRATA_COW: undefined });
    }
  });

  it('bind (read-only), tmpfs and secret mounts; their mount points never reach the layer', async () => {
    const base = layerFromTarFile(busyboxRootfsTar());
    const src = join(work, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'in.txt'), 'from the host');
    const secret = join(work, 'secret');
    writeFileSync(secret, 's3cr3t');
    const cache = join(work, 'cache');
    mkdirSync(cache);
    let out = '';
    const sink = new PassThrough();
    sink.on('data', (b: Buffer) => (out += b.toString()));
    const r = await runOnLayers({
      root,
      layers: [base],
      exec: (c) =>
        runProcess({
          ...c,
          args: ['sh', '-c', 'cat /mnt/src/in.txt; echo; touch /mnt/src/x 2>/dev/null || echo ro; cat /run/secrets/id; echo; echo t > /scratch/t; echo c > /root/.cache/c; echo keep > /kept'],
          mounts: [
            { type: 'bind', source: src, target: '/mnt/src', readonly: true },
            { type: 'bind', source: secret, target: '/run/secrets/id', readonly: true },
            { type: 'bind', source: cache, target: '/root/.cache' },
            { type: 'tmpfs', target: '/scratch' },
          ],
          stdout: sink,
        }),
    });
    expect(r.exitCode).toBe(0);
    expect(out).toBe('from the host\nro\ns3cr3t\n');
    expect(readFileSync(join(cache, 'c'), 'utf8')).toBe('c\n');
    expect(r.changes.map((c) => `${c.kind} ${c.path}`)).toEqual(['add /kept']);
    expect(await entriesOf(r.layer!)).toEqual(['file kept']);
    await r.cleanup();
  });

  it("a build step's overlay is volatile (the process's fsyncs skip the disk); a container's is not", async () => {
    const base = layerFromTarFile(busyboxRootfsTar());
    // the root overlay's options as the process sees them, and an fsync that must still succeed
    const script = "awk '$2 == \"/\" { print $4 }' /proc/mounts; echo x > /f; sync /f && echo synced";
    let out = '';
    const sink = new PassThrough();
    sink.on('data', (b: Buffer) => (out += b.toString()));
    const r = await runOnLayers({ root, layers: [base], exec: (c) => runProcess({ ...c, args: ['sh', '-c', script], network: 'none', stdout: sink }) });
    expect(r.exitCode).toBe(0);
    await r.cleanup();
    const [opts, synced] = out.trim().split('\n');
    // newer kernels (6.x) list it as fsync=volatile
    expect(opts.split(',').filter((o) => o === 'volatile' || o === 'fsync=volatile')).toHaveLength(1);
    expect(synced).toBe('synced');

    const w = await createWritableLayer(root, { id: 'not-a-build-step', layers: [base] });
    try {
      const rootfs = w.rootfs();
      expect(rootfs).not.toHaveProperty('volatile');
      out = '';
      const { exitCode } = await runProcess({ id: 'not-a-build-step', rootfs, bundleDir: join(w.dir, 'bundle'), stateDir: join(w.dir, 'runtime'), args: ['sh', '-c', script], network: 'none', stdout: sink });
      expect(exitCode).toBe(0);
      expect(out.trim().split('\n')[0].split(',').filter((o) => o.includes('volatile'))).toEqual([]);
    } finally {
      removeWritableLayer(root, 'not-a-build-step');
    }
  });

  it('mounts a stack of 200 layers (short relative lower paths keep the options under a page)', async () => {
    const layers: Layer[] = [layerFromTarFile(busyboxRootfsTar())];
    for (let i = 0; i < 199; i++) layers.push(await tarFile(work, `many-${i}.tar`, [D('many'), F(`many/f${i}`, String(i))]));
    let out = '';
    const sink = new PassThrough();
    sink.on('data', (b: Buffer) => (out += b.toString()));
    const r = await runOnLayers({ root, layers, exec: (c) => runProcess({ ...c, args: ['sh', '-c', 'ls /many | wc -l; cat /many/f0 /many/f198'], stdout: sink }) });
    expect(r.exitCode).toBe(0);
    expect(out.split(/\s+/).filter(Boolean)).toEqual(['199', '0198']);
    await r.cleanup();
  });
});
