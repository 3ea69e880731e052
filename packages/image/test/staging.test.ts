import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, tempDir } from '@strata/testing';
import { WRITEBACK_STEP } from '@strata/cas';
import { createStaging } from '../src/index';

afterAll(() => cleanupTempDirs());

/** The descriptors this process has open. */
const openFds = () => readdirSync('/proc/self/fd').length;
const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A blob over two early-flush steps, in 256 KiB chunks that differ. */
function bigBlob(): Buffer {
  const total = WRITEBACK_STEP * 2 + 54321;
  const b = Buffer.alloc(total);
  for (let off = 0, i = 0; off < total; off += 256 * 1024, i++) b.fill(i & 0xff, off, Math.min(total, off + 256 * 1024));
  return b;
}

async function* chunks(b: Buffer, size = 256 * 1024) {
  for (let off = 0; off < b.length; off += size) yield b.subarray(off, off + size);
}

describe('staging: blobs larger than the early-flush step', () => {
  it('stages a plain blob and a gzip one whole, with both digests, and syncs them', async () => {
    const root = tempDir();
    const staging = createStaging(root, 'test');
    const plain = bigBlob();
    const gz = gzipSync(plain, { level: 1 });
    const a = await staging.stage(chunks(plain), 'plain');
    const b = await staging.stage(chunks(gz), 'gzip');
    await staging.synced();
    expect(a).toMatchObject({ encoding: 'none', rawDigest: sha(plain), diffId: sha(plain), size: plain.length });
    expect(b).toMatchObject({ encoding: 'gzip', rawDigest: sha(gz), rawSize: gz.length, diffId: sha(plain), size: plain.length });
    for (const s of [a, b]) expect(sha(readFileSync(s.file))).toBe(sha(plain));
    staging.finish();
    expect(existsSync(staging.dir)).toBe(false);
  });

  it('a source that fails past a flush: the stage rejects with its error, no descriptor is left open, discard leaves the root as found', async () => {
    const parent = tempDir();
    const root = join(parent, 'store');
    const before = openFds();
    const staging = createStaging(root, 'test');
    const plain = bigBlob();
    async function* failing() {
      yield* chunks(plain.subarray(0, WRITEBACK_STEP + 1024 * 1024));
      throw new Error('connection reset by the test');
    }
    await expect(staging.stage(failing(), 'cut')).rejects.toThrow('connection reset by the test');
    await staging.synced();
    expect(openFds()).toBe(before);
    staging.discard();
    expect(existsSync(root)).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
  });
});
