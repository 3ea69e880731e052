import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { cleanupTempDirs, tempDir, writeTree } from '@strata/testing';
import { MediaType } from '@strata/oci';
import { readTar } from '@strata/tar';
import { changeEntries, compress, layerFromChanges, layerFromDirectory, layerFromTarFile, readAll, spoolLayer, walkTree } from '../src';

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

const SYNC_FLUSH = Buffer.from([0, 0, 0xff, 0xff]);

describe('compress gzip: deflated or stored a MiB at a time, as the data is worth', () => {
  // 3 MiB of text, 3 MiB of random bytes, 1.5 MiB of text: blocks of both kinds and switches both ways.
  const text = (n: number, seed: number) => Buffer.from(Array.from({ length: Math.ceil(n / 20) }, (_, i) => `line ${seed + i} of some text\n`).join('')).subarray(0, n);
  const random = (n: number, seed: number) => {
    const out = Buffer.alloc(n);
    let x = seed >>> 0 || 1;
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 0xff;
    }
    return out;
  };
  const input = Buffer.concat([text(3 << 20, 0), random(3 << 20, 7), text(3 << 19, 99)]);
  const chunks = function* (b: Buffer, size: number) {
    for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
  };
  const gz = async (b: Buffer, size: number) => readAll(compress((async function* () { yield* chunks(b, size); })(), 'gzip', { level: 1 }));

  it('round-trips through zlib and the gzip program; the random MiBs are stored, the text deflated', async () => {
    const out = await gz(input, 64 * 1024);
    expect(out.length).toBeGreaterThan(3 * 2 ** 20);
    expect(gunzipSync(out).equals(input)).toBe(true);
    expect(execFileSync('gzip', ['-dc'], { input: out, maxBuffer: 64 << 20 }).equals(input)).toBe(true);
    expect(execFileSync('gzip', ['-tv'], { input: out, stdio: ['pipe', 'pipe', 'pipe'] }).length).toBeGreaterThanOrEqual(0);
    // zlib's own header for level 1, and no bigger than a plain level-1 stream by more than the framing
    const plain = gzipSync(input, { level: 1 });
    expect(out.subarray(0, 10).equals(plain.subarray(0, 10))).toBe(true);
    expect(out.length).toBeLessThan(plain.length + 4096);
    // a switch of level is a sync flush, an empty stored block (00 00 ff ff): two here, into the
    // random MiBs and out of them; a plain stream has none
    const flushes = (b: Buffer) => {
      let n = 0;
      for (let i = b.indexOf(SYNC_FLUSH); i >= 0; i = b.indexOf(SYNC_FLUSH, i + 1)) n++;
      return n;
    };
    expect([flushes(out), flushes(plain)]).toEqual([2, 0]);
  });

  it('gives the same bytes however the input is cut (a layer compressed twice has one digest)', async () => {
    const a = await gz(input, 64 * 1024);
    expect(sha(await gz(input, 1000 * 1000 + 7))).toBe(sha(a));
    expect(sha(await gz(input, input.length))).toBe(sha(a));
  });

  it('an empty input and a short one are gzip streams too', async () => {
    for (const b of [Buffer.alloc(0), Buffer.from('hello\n')]) {
      const out = await gz(b, 4);
      expect(gunzipSync(out).equals(b)).toBe(true);
      expect(execFileSync('gzip', ['-dc'], { input: out }).equals(b)).toBe(true);
    }
  });
});
