import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256 } from '@strata/oci';
import { isStrataError } from '@strata/errors';
import { cleanupTempDirs, isRoot, tempDir } from '@strata/testing';
import { openBlobStore } from './blob-store';

afterAll(cleanupTempDirs);

async function* chunks(...parts: string[]) {
  for (const p of parts) yield Buffer.from(p);
}

describe('openBlobStore', () => {
  it('creates an OCI image layout', async () => {
    const root = await tempDir();
    await openBlobStore(root);
    expect(JSON.parse(await fsp.readFile(join(root, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(await fsp.readFile(join(root, 'index.json'), 'utf8'));
    expect(index).toMatchObject({ schemaVersion: 2, manifests: [] });
    expect((await fsp.stat(join(root, 'blobs', 'sha256'))).isDirectory()).toBe(true);
    // opening again keeps what is there
    await fsp.writeFile(join(root, 'index.json'), '{"schemaVersion":2,"manifests":[{"x":1}]}');
    await openBlobStore(root);
    expect(await fsp.readFile(join(root, 'index.json'), 'utf8')).toContain('"x":1');
  });

  it('stores, reads, lists and deletes blobs', async () => {
    const root = await tempDir();
    const s = await openBlobStore(root);
    const { digest, size } = await s.put(chunks('hello ', 'world'));
    expect(digest).toBe(sha256('hello world'));
    expect(size).toBe(11);
    expect(s.path(digest)).toBe(join(root, 'blobs', 'sha256', digest.slice(7)));
    expect(await s.has(digest)).toBe(true);
    expect(await s.size(digest)).toBe(11);
    expect((await s.read(digest)).toString()).toBe('hello world');
    const parts: Buffer[] = [];
    for await (const c of await s.open(digest)) parts.push(Buffer.from(c));
    expect(Buffer.concat(parts).toString()).toBe('hello world');
    const listed = [];
    for await (const d of s.list()) listed.push(d);
    expect(listed).toEqual([digest]);
    expect(await s.verify(digest)).toEqual({ ok: true, actual: digest, size: 11 });
    await s.delete(digest);
    expect(await s.has(digest)).toBe(false);
    await s.delete(digest);
    await expect(s.read(digest)).rejects.toSatisfy((e) => isStrataError(e, 'BLOB_NOT_FOUND'));
    await expect(s.open(digest)).rejects.toSatisfy((e) => isStrataError(e, 'BLOB_NOT_FOUND'));
    expect(await s.size(digest)).toBeUndefined();
  });

  it('keep: false leaves nothing (the temp file goes); true stores the blob; a throwing keep stores nothing', async () => {
    const root = await tempDir();
    const s = await openBlobStore(root);
    const seen: string[] = [];
    const dropped = await s.put(chunks('not ', 'kept'), {
      keep: async (b) => {
        seen.push(b.digest);
        await new Promise((r) => setTimeout(r, 20)); // the sync runs meanwhile
        return false;
      },
    });
    expect(seen).toEqual([sha256('not kept')]);
    expect(dropped).toEqual({ digest: sha256('not kept'), size: 8 });
    expect(await s.has(dropped.digest)).toBe(false);
    const kept = await s.put(chunks('kept'), { keep: () => true });
    expect((await s.read(kept.digest)).toString()).toBe('kept');
    await expect(
      s.put(chunks('boom'), {
        keep: () => {
          throw new Error('keep failed');
        },
      }),
    ).rejects.toThrow('keep failed');
    expect(await s.has(sha256('boom'))).toBe(false);
    // no temp file left behind (one of the dropped put's may still be closing: give it a moment)
    await new Promise((r) => setTimeout(r, 50));
    expect((await fsp.readdir(join(root, 'tmp'))).filter((f) => !f.startsWith('lease'))).toEqual([]);
  });

  it('writes a lent chunk before giving it back, and copies a chunk it was not lent', async () => {
    const root = await tempDir();
    const s = await openBlobStore(root);
    const MiB = 1 << 20;
    const fill = (b: Buffer, i: number) => b.fill(`chunk ${i};`);
    const expected = createHash('sha256');
    // Lent: two buffers in turn, each refilled with the next chunk's bytes as soon as it is given
    // back. Given back before its write ended, a chunk would be stored with a later one's bytes.
    const free: Buffer[] = [Buffer.alloc(MiB), Buffer.alloc(MiB)];
    const given: Uint8Array[] = [];
    const lent = async function* () {
      for (let i = 0; i < 24; i++) {
        while (free.length === 0) await new Promise((r) => setImmediate(r));
        const b = fill(free.pop()!, i);
        const c = i === 23 ? b.subarray(0, 1000) : b;
        expected.update(c);
        yield c;
      }
    };
    const a = await s.put(lent(), { release: (c) => (given.push(c), free.push(Buffer.from(c.buffer, c.byteOffset, MiB))) });
    expect(given).toHaveLength(24);
    // Not lent: one buffer, overwritten as soon as the put asks for the next chunk (whole MiB ones,
    // which a lent chunk would be written from directly, then small ones).
    const one = Buffer.alloc(MiB);
    const expected2 = createHash('sha256');
    const reused = async function* () {
      for (let i = 0; i < 24; i++) {
        const c = fill(one, i).subarray(0, i < 20 ? MiB : 3000);
        expected2.update(c);
        yield c;
      }
    };
    const b = await s.put(reused());
    for (const [got, want] of [[a, expected], [b, expected2]] as const) {
      const hex = want.digest('hex');
      expect(got.digest).toBe(`sha256:${hex}`);
      expect(createHash('sha256').update(await fsp.readFile(s.path(got.digest))).digest('hex')).toBe(hex);
    }
  });

  it.runIf(isRoot())('a write that fails (no space) fails the put and leaves no blob and no temp file', async () => {
    const root = await tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'strata-cas-test', root]);
    try {
      const s = await openBlobStore(root);
      const big = async function* () {
        for (let i = 0; i < 8; i++) yield Buffer.alloc(512 * 1024, i);
      };
      await expect(s.put(big())).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(await fsp.readdir(join(root, 'blobs', 'sha256'))).toEqual([]);
      expect((await fsp.readdir(join(root, 'tmp'))).filter((n) => n.startsWith('blob-'))).toEqual([]);
    } finally {
      execFileSync('umount', [root]);
    }
  });

  it('refuses content that does not match the expected digest or size, storing nothing', async () => {
    const root = await tempDir();
    const s = await openBlobStore(root);
    const claimed = sha256('something else');
    await expect(s.put(chunks('abc'), { expected: claimed })).rejects.toSatisfy((e) => isStrataError(e, 'DIGEST_MISMATCH'));
    await expect(s.put(chunks('abc'), { expected: sha256('abc'), expectedSize: 4 })).rejects.toSatisfy((e) => isStrataError(e, 'SIZE_MISMATCH'));
    await expect(s.put(chunks('abcdef'), { expectedSize: 4 })).rejects.toSatisfy((e) => isStrataError(e, 'SIZE_MISMATCH'));
    await expect(s.putBytes('abc', { expected: claimed })).rejects.toSatisfy((e) => isStrataError(e, 'DIGEST_MISMATCH'));
    expect(await fsp.readdir(join(root, 'blobs', 'sha256'))).toEqual([]);
    expect((await fsp.readdir(join(root, 'tmp'))).filter((n) => n.startsWith('blob-'))).toEqual([]);
  });

  it('a failing source leaves nothing but cleans its temp file', async () => {
    const root = await tempDir();
    const s = await openBlobStore(root);
    async function* broken() {
      yield Buffer.from('partial');
      throw new Error('source died');
    }
    await expect(s.put(broken())).rejects.toThrow('source died');
    expect(await fsp.readdir(join(root, 'blobs', 'sha256'))).toEqual([]);
    expect((await fsp.readdir(join(root, 'tmp'))).filter((n) => n.startsWith('blob-'))).toEqual([]);
  });

  it('verifies content it already holds without rewriting it, and re-hash finds corruption', async () => {
    const root = await tempDir();
    const s = await openBlobStore(root);
    const { digest } = await s.putBytes('data');
    const ino = (await fsp.stat(s.path(digest))).ino;
    expect(await s.put(chunks('da', 'ta'), { expected: digest, expectedSize: 4 })).toEqual({ digest, size: 4 });
    expect((await fsp.stat(s.path(digest))).ino).toBe(ino);
    await expect(s.put(chunks('dat4'), { expected: digest })).rejects.toSatisfy((e) => isStrataError(e, 'DIGEST_MISMATCH'));
    await fsp.writeFile(s.path(digest), 'dat4');
    expect((await s.verify(digest)).ok).toBe(false);
  });

  it('sweep deletes unleased candidates only', async () => {
    const root = await tempDir();
    const writer = await openBlobStore(root);
    const a = await writer.putBytes('a');
    const b = await writer.putBytes('b');
    const gc = await openBlobStore(root);
    // both are leased by this (live) process
    expect((await gc.sweep([a.digest, b.digest])).deleted).toEqual([]);
    writer.release([a.digest]);
    const r = await gc.sweep([a.digest, b.digest]);
    expect(r).toEqual({ deleted: [a.digest], bytes: 1 });
    expect(await gc.has(a.digest)).toBe(false);
    expect(await gc.has(b.digest)).toBe(true);
  });

  it('cleanTmp removes temp files of dead processes only', async () => {
    const root = await tempDir();
    const s = await openBlobStore(root);
    await fsp.writeFile(join(root, 'tmp', 'blob-999999999-abcdef'), 'junk');
    await fsp.writeFile(join(root, 'tmp', `blob-${process.pid}-abcdef`), 'mine');
    expect(await s.cleanTmp()).toEqual({ files: 1, bytes: 4 });
    expect(await fsp.readdir(join(root, 'tmp'))).toContain(`blob-${process.pid}-abcdef`);
  });

  it('concurrent opens of a fresh root agree', async () => {
    const root = await tempDir();
    await Promise.all(Array.from({ length: 8 }, () => openBlobStore(root)));
    expect(JSON.parse(await fsp.readFile(join(root, 'index.json'), 'utf8')).manifests).toEqual([]);
  });
});
