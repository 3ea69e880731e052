import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, tempDir, writeTree } from '@strata/testing';
import { readAll } from '@strata/layer';
import { writeTar } from '@strata/tar';
import { layerContentSize } from './content-size';

afterAll(cleanupTempDirs);

describe('layerContentSize', () => {
  it('counts regular file bytes only, as Docker does, for GNU tar and strata tars', async () => {
    const dir = tempDir();
    const src = join(dir, 'src');
    writeTree(src, { 'a.txt': 'hello', 'd/b.bin': { content: Buffer.alloc(70000, 1) }, 'l': { symlink: 'a.txt' }, 'h': { hardlink: 'a.txt' }, ['x'.repeat(150)]: 'long name' });
    execFileSync('tar', ['-C', src, '--format=gnu', '-cf', join(dir, 'gnu.tar'), '.']);
    execFileSync('tar', ['-C', src, '--format=posix', '-cf', join(dir, 'pax.tar'), '.']);
    expect(layerContentSize(join(dir, 'gnu.tar'))).toBe(5 + 70000 + 9);
    expect(layerContentSize(join(dir, 'pax.tar'))).toBe(5 + 70000 + 9);
    const tar = await readAll(writeTar([{ path: 'small', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 3, mtime: 0, data: 'abc' }]));
    writeFileSync(join(dir, 's.tar'), tar);
    expect(layerContentSize(join(dir, 's.tar'))).toBe(3);
    writeFileSync(join(dir, 'not.tar'), Buffer.alloc(2048, 7));
    expect(layerContentSize(join(dir, 'not.tar'))).toBeUndefined();
  });
});
