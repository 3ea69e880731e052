import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { cleanupTempDirs, tempDir, writeTree } from '@strata/testing';
import { MediaType } from '@strata/oci';
import { readTar } from '@strata/tar';
import { changeEntries, layerFromChanges, layerFromDirectory, layerFromTarFile, readAll, spoolLayer, walkTree } from '../src';

afterAll(cleanupTempDirs);
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function names(stream: AsyncIterable<Uint8Array>) {
  const out: string[] = [];
  for await (const { entry } of readTar(stream)) out.push(`${entry.type} ${entry.path}${entry.linkname ? ` -> ${entry.linkname}` : ''}`);
  return out;
}

describe('layerFromDirectory', () => {
  it('is a deterministic, sorted tar whose diffID/digest/size describe its bytes', async () => {
    const dir = writeTree(tempDir(), { 'b.txt': 'b', 'a/z': 'z', 'a.txt': 'a', 'a/l': { symlink: 'z' }, 'a/h': { hardlink: 'a/z' } });
    const l = layerFromDirectory(dir);
    const bytes = await readAll(await l.uncompressed());
    expect(await l.diffId()).toBe(sha(bytes));
    expect(await l.digest()).toBe(sha(bytes));
    expect(await l.size()).toBe(bytes.length);
    expect(await l.mediaType()).toBe(MediaType.OCI_LAYER);
    expect(Buffer.compare(bytes, await readAll(await layerFromDirectory(dir).uncompressed()))).toBe(0);
    expect(await names(Readable.from([bytes]))).toEqual(['dir a', 'file a/h', 'symlink a/l -> z', 'hardlink a/z -> a/h', 'file a.txt', 'file b.txt']);
  });

  it('refuses user files named .wh.*', () => {
    const dir = writeTree(tempDir(), { 'x/.wh.evil': '' });
    expect(() => [...walkTree(dir)]).toThrowError(/\.wh\./);
  });
});

describe('layerFromTarFile', () => {
  it('reads plain and gzip tars: digest of the file, diffID of the tar', async () => {
    const dir = writeTree(tempDir(), { 'f': 'hello' });
    const w = tempDir();
    const plain = join(w, 'l.tar');
    execFileSync('tar', ['-cf', plain, '-C', dir, '.']);
    const tarBytes = readFileSync(plain);
    writeFileSync(join(w, 'l.tgz'), gzipSync(tarBytes));
    const p = layerFromTarFile(plain);
    expect(await p.diffId()).toBe(sha(tarBytes));
    const g = layerFromTarFile(join(w, 'l.tgz'));
    expect(await g.diffId()).toBe(sha(tarBytes));
    expect(await g.digest()).toBe(sha(readFileSync(join(w, 'l.tgz'))));
    expect(await g.mediaType()).toBe(MediaType.OCI_LAYER_GZIP);
    expect(Buffer.compare(await readAll(await g.uncompressed()), tarBytes)).toBe(0);
  });

  it('spoolLayer hashes while writing: one pass', async () => {
    const w = tempDir();
    const data = Buffer.alloc(3 * 1024 * 1024, 7);
    const l = await spoolLayer(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), w);
    expect(await l.diffId()).toBe(sha(data));
    expect(await l.size()).toBe(data.length);
    expect(existsSync(l.path)).toBe(true);
    l.remove();
    expect(existsSync(l.path)).toBe(false);
  });
});

describe('layerFromChanges', () => {
  it('adds and modifies from the tree, deletes as whiteouts, added directories bring their subtree', async () => {
    const root = writeTree(tempDir(), { 'etc/conf': 'new', 'opt/app/bin/run': '#!', 'opt/app/lib/x': 'x' });
    const l = layerFromChanges(root, [
      { path: '/etc/conf', kind: 'modify' },
      { path: '/etc/old', kind: 'delete' },
      { path: '/opt/app', kind: 'add' },
      { path: '/opt/app/lib/x', kind: 'add' },
    ]);
    expect(await names(await l.uncompressed())).toEqual([
      'file etc/.wh.old', 'file etc/conf', 'dir opt/app', 'dir opt/app/bin', 'file opt/app/bin/run', 'dir opt/app/lib', 'file opt/app/lib/x',
    ]);
    expect([...changeEntries(root, [{ path: '/gone', kind: 'delete' }])].map((e) => [e.path, e.mtime])).toEqual([['.wh.gone', 0]]);
  });
});
