// Inputs the reliability fuzzing (tools/reliability, issue 18) found mishandled, kept as they failed.
import { afterAll, describe, expect, it } from 'vitest';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { cleanupTempDirs, tempDir } from '@strata/testing';
import { StrataError } from '@strata/errors';
import { applyLayer, openTarFile, readTar, type TarWriteEntry } from '../src';
import { tarBytes } from './hostile-tars';

afterAll(cleanupTempDirs);

const T = 1_700_000_000;
const file = (path: string, data: string): TarWriteEntry => ({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: T, data });

async function streamed(tar: Buffer): Promise<string> {
  try {
    for await (const { body } of readTar(Readable.from([tar]))) for await (const _ of body) void _;
    return 'ok';
  } catch (err) {
    return (err as StrataError).code;
  }
}

function indexed(tar: Buffer): string {
  const p = join(tempDir(), 'in.tar');
  writeFileSync(p, tar);
  const c = openTarFile(p);
  try {
    while (c.next());
    return 'ok';
  } catch (err) {
    return (err as StrataError).code;
  } finally {
    c.close();
  }
}

describe('tar inputs found by fuzzing', () => {
  it('a PAX record cut in its padding is truncated for both readers', async () => {
    const whole = await tarBytes([{ ...file('x', 'y'), xattrs: { 'user.k': Buffer.from('v') } }]);
    expect(String.fromCharCode(whole[156])).toBe('x');
    const paxSize = Number.parseInt(whole.subarray(124, 136).toString('latin1'), 8);
    const cut = whole.subarray(0, 512 + paxSize);
    expect(await streamed(cut)).toBe('INVALID_TAR');
    expect(indexed(cut)).toBe('INVALID_TAR');
  });

  it('a name longer than the filesystem allows is a coded error, not a crash', async () => {
    const dir = tempDir();
    const err = await applyLayer(dir, Readable.from([await tarBytes([file('z'.repeat(5000), 'long')])])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StrataError);
    expect((err as StrataError).code).toBe('IO_ERROR');
    expect((err as StrataError).message).toMatch(/ENAMETOOLONG/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('more tar inputs found by fuzzing', () => {
  it('a GNU base-256 size beyond 2^53 is INVALID_TAR for both readers', async () => {
    const tar = Buffer.from(await tarBytes([file('f', 'x')]));
    Buffer.from([0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).copy(tar, 124);
    tar.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += tar[i];
    Buffer.from(`${sum.toString(8).padStart(6, '0')}\0 `, 'latin1').copy(tar, 148);
    expect(await streamed(tar)).toBe('INVALID_TAR');
    expect(indexed(tar)).toBe('INVALID_TAR');
  });

  it('a symlink to nothing is INVALID_TAR', async () => {
    const dir = tempDir();
    const err = await applyLayer(dir, Readable.from([await tarBytes([{ path: 'a', type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtime: T, linkname: '' }])])).catch((e: unknown) => e);
    expect((err as StrataError).code).toBe('INVALID_TAR');
  });
});

describe('PAX numbers found by fuzzing', () => {
  it.each(['size', 'uid', 'gid'])('a fractional PAX %s is INVALID_TAR for both readers', async (key) => {
    const whole = Buffer.from(await tarBytes([{ ...file('f', 'x'), xattrs: { 'user.k': Buffer.from('v') } }]));
    // rewrite the xattr record (same length) as `key=1.5`, and fix the header's checksum
    const at = whole.indexOf('SCHILY.xattr.user.k=v');
    const rec = `${key}=1.5`.padEnd('SCHILY.xattr.user.k=v'.length, ' ');
    expect(at).toBeGreaterThan(0);
    whole.write(key === 'size' ? `size=0001.5`.padEnd(rec.length, '0') : rec, at, 'latin1');
    expect(await streamed(whole)).toBe('INVALID_TAR');
    expect(indexed(whole)).toBe('INVALID_TAR');
  });
});

describe('a PAX time beyond 64-bit seconds', () => {
  it('is INVALID_TAR for both readers and for applyLayer, not a refused futimes', async () => {
    // 1e19 s does not fit Go's int64 seconds; the kernel refuses it (EINVAL) when it is applied
    const tar = await tarBytes([{ ...file('x', 'y'), mtime: 1e19 }]);
    expect(tar.toString('latin1')).toContain('mtime=');
    expect(await streamed(tar)).toBe('INVALID_TAR');
    expect(indexed(tar)).toBe('INVALID_TAR');
    const dir = tempDir();
    const err = await applyLayer(dir, Readable.from([tar])).catch((e: unknown) => e);
    expect((err as StrataError).code).toBe('INVALID_TAR');
    // the largest time that fits is still a time
    expect(await streamed(await tarBytes([{ ...file('x', 'y'), mtime: 9.2e18 }]))).toBe('ok');
  });
});
