import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, linkSync, symlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTar, setXattr, writeTar, type TarWriteEntry } from '@strata/tar';
import { layerFromUncompressed, readAll } from '@strata/layer';
import { cleanupTempDirs, isRoot, requireOrSkip, tempDir } from '@strata/testing';
import { createWritableLayer, ensureSnapshots } from '../src/index';

afterAll(() => cleanupTempDirs());

const M = 1_700_000_000;
const D = (path: string): TarWriteEntry => ({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: M });
const F = (path: string, data: string): TarWriteEntry => ({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: M, data });

async function layerOf(entries: TarWriteEntry[]) {
  const bytes = await readAll(writeTar(entries));
  return layerFromUncompressed({ open: async () => (async function* () { yield bytes; })() });
}

const setOpaque = (p: string) => setXattr(p, 'trusted.overlay.opaque', Buffer.from('y'));

describe('writable layer capture (no runtime: a hand-made upper dir)', () => {
  it('converts overlay whiteouts and opaque dirs, keeps hardlinks, is deterministic', async () => {
    const root = tempDir();
    const layers = [await layerOf([D('a'), F('a/f', 'x'), F('a/g', 'y'), D('o'), F('o/old', 'o'), F('keep', 'k')])];
    const w = await createWritableLayer(root, { id: 'c'.repeat(64), layers });
    const u = w.upperdir;
    mkdirSync(join(u, 'a'));
    utimesSync(join(u, 'a'), M, M);
    execFileSync('mknod', [join(u, 'a', 'f'), 'c', '0', '0']);
    mkdirSync(join(u, 'o'));
    setOpaque(join(u, 'o'));
    writeFileSync(join(u, 'o', 'new'), 'n');
    writeFileSync(join(u, 'h1'), 'h');
    linkSync(join(u, 'h1'), join(u, 'h2'));
    symlinkSync('/keep', join(u, 'ln'));
    expect(w.changes().map((c) => `${c.kind} ${c.path}`)).toEqual([
      'modify /a', 'delete /a/f', 'add /h1', 'add /h2', 'add /ln', 'modify /o', 'add /o/new', 'delete /o/old',
    ]);
    const f1 = join(root, 'l1.tar');
    const f2 = join(root, 'l2.tar');
    const l1 = await w.writeLayer(f1);
    const l2 = await w.writeLayer(f2);
    expect(await l1.diffId()).toBe(await l2.diffId());
    const names: string[] = [];
    for await (const { entry, body } of readTar(await l1.uncompressed())) {
      for await (const _ of body) void _;
      names.push(`${entry.type} ${entry.path}${entry.linkname ? ` -> ${entry.linkname}` : ''}${entry.xattrs ? ' xattrs' : ''}`);
    }
    expect(names).toEqual([
      'dir a', 'file a/.wh.f', 'file h1', 'hardlink h2 -> h1', 'symlink ln -> /keep', 'dir o', 'file o/.wh..wh..opq', 'file o/new',
    ]);
  });
});

describe('snapshots of layers that imply parent directories', () => {
  it.skipIf(!requireOrSkip(isRoot(), 'snapshots with owned parent directories need root'))('copy the owner, mode and times of the directory below (overlayfs shows the top-most copy)', async () => {
    const root = tempDir();
    const owned = { ...D('home/app'), uid: 1000, gid: 1001, mode: 0o750, mtime: M + 7 };
    const layers = [
      await layerOf([D('home'), owned, { path: 'lib', type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtime: M, linkname: 'usr/lib' }]),
      // No entries for home/, home/app/ or lib/: they are implied by the files.
      await layerOf([F('home/app/work/x', 'x'), F('lib/y', 'y')]),
    ];
    const [, top] = await ensureSnapshots(root, layers);
    const { lstatSync } = await import('node:fs');
    const app = lstatSync(join(top.dir, 'home/app'));
    expect([app.uid, app.gid, app.mode & 0o7777, app.mtimeMs / 1000]).toEqual([1000, 1001, 0o750, M + 7]);
    // Implied below an implied directory that has no copy below: root, 0755.
    const work = lstatSync(join(top.dir, 'home/app/work'));
    expect([work.uid, work.gid, work.mode & 0o7777]).toEqual([0, 0, 0o755]);
    // A lower symlink is no directory to copy: the implied lib/ is root's, 0755, and a directory.
    const lib = lstatSync(join(top.dir, 'lib'));
    expect([lib.isDirectory(), lib.uid, lib.mode & 0o7777]).toEqual([true, 0, 0o755]);
  });
});
