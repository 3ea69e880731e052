import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTempDirs, tempDir } from '@strata/testing';
import { readAll } from '@strata/layer';
import type { TarWriteEntry } from '@strata/tar';
import { diffViews, flatten, unionView } from '../src';
import { collect, rowsOfTar, tarBytes } from './helpers';

afterAll(cleanupTempDirs);
const T = 1_700_000_000;
const f = (path: string, data: string, extra: Partial<TarWriteEntry> = {}): TarWriteEntry => ({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: T, data, ...extra });
const d = (path: string): TarWriteEntry => ({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: T });

async function stack(layers: TarWriteEntry[][]) {
  const w = tempDir();
  const sources = [];
  for (const [i, l] of layers.entries()) {
    const p = join(w, `${i}.tar`);
    writeFileSync(p, await tarBytes(l));
    sources.push({ path: p, diffId: `sha256:${String(i).repeat(64)}` as const });
  }
  return sources;
}

describe('unionView', () => {
  it('stat / readdir / read the merged tree, lazily from the layer tars', async () => {
    const layers = await stack([
      [d('etc'), f('etc/a', 'lower a'), f('etc/b', 'b'), d('var'), f('var/x', 'x'), { path: 'link', type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtime: T, linkname: 'etc/a' }],
      [f('etc/a', 'upper a', { mode: 0o600 }), f('etc/.wh.b', ''), d('var'), f('var/.wh..wh..opq', ''), f('var/y', 'y')],
    ]);
    const v = await unionView(layers);
    expect(v.readdir('/')).toEqual(['etc', 'link', 'var']);
    expect(v.readdir('/etc')).toEqual(['a']);
    expect(v.readdir('/var')).toEqual(['y']);
    expect(v.readdir('/etc/a')).toBeUndefined();
    expect(v.stat('/etc/a')).toMatchObject({ type: 'file', mode: 0o600, size: 7, layer: 1 });
    expect(v.stat('/etc/b')).toBeUndefined();
    expect((await readAll(await v.read('/etc/a'))).toString()).toBe('upper a');
    expect((await readAll(await v.read('/link'))).toString()).toBe('upper a');
    await expect(v.read('/etc/b')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(v.read('/etc')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    expect(v.size).toBe(5);
    expect((await rowsOfTar(await collect(flatten(v)))).map((r) => r.split(' ')[0])).toEqual(['etc', 'etc/a', 'link', 'var', 'var/y']);
  });

  it('diff says what changed, and skips reading content of the same layer blob', async () => {
    const [l0, l1] = await stack([
      [d('d'), f('d/same', 'same'), f('d/mod', 'one'), f('d/chmod', 'c'), f('d/gone', 'g'), d('d/sub'), f('d/sub/x', 'x')],
      [f('d/mod', 'two'), f('d/chmod', 'c', { mode: 0o755, uid: 5 }), f('d/.wh.gone', ''), f('d/.wh.sub', ''), f('d/new', 'n')],
    ]);
    const a = await unionView([l0]);
    const b = await unionView([l0, l1]);
    const out = [];
    for await (const c of diffViews(a, b)) out.push([c.kind, c.path, c.what]);
    expect(out).toEqual([
      ['modify', '/d/chmod', ['mode', 'owner']],
      ['delete', '/d/gone', undefined],
      ['modify', '/d/mod', ['content']],
      ['add', '/d/new', undefined],
      ['delete', '/d/sub', undefined],
    ]);
  });
});
