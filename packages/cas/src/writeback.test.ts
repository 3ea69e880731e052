import { createHash } from 'node:crypto';
import { closeSync, fdatasync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, tempDir } from '@strata/testing';
import { openBlobStore } from './blob-store';
import { earlyWriteback, WRITEBACK_STEP } from './writeback';

afterAll(cleanupTempDirs);

const MiB = 1024 * 1024;

describe('earlyWriteback', () => {
  it('flushes every `step` bytes, one flush at a time, and `settled` waits for the one in flight', async () => {
    const calls: Array<() => void> = [];
    const wb = earlyWriteback(7, {
      step: 4 * MiB,
      sync: ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
        expect(fd).toBe(7);
        calls.push(() => cb(null));
      }) as typeof fdatasync,
    });
    for (let i = 0; i < 3; i++) wb.wrote(MiB);
    expect(calls).toHaveLength(0); // 3 MiB: not yet
    wb.wrote(MiB);
    expect(calls).toHaveLength(1); // 4 MiB: the first flush
    for (let i = 0; i < 8; i++) wb.wrote(MiB);
    expect(calls).toHaveLength(1); // 12 MiB, but the first is still in flight: no second
    let settled = false;
    const waiting = wb.settled().then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(settled).toBe(false);
    calls[0]();
    await waiting;
    expect(settled).toBe(true);
    // the first covered the 4 MiB written when it started: 8 more since, so the next write starts one
    wb.wrote(1);
    expect(calls).toHaveLength(2);
    calls[1]();
    await wb.settled();
    // 1 byte past the second flush's mark: nothing more to do
    wb.wrote(1);
    expect(calls).toHaveLength(2);
  });

  it('runs real fdatasyncs on a file being written, which ends up whole', async () => {
    const file = join(await tempDir(), 'f');
    const fd = openSync(file, 'wx');
    let syncs = 0;
    const wb = earlyWriteback(fd, {
      step: 2 * MiB,
      sync: ((f: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
        syncs++;
        fdatasync(f, cb);
      }) as typeof fdatasync,
    });
    const h = createHash('sha256');
    const chunk = Buffer.alloc(MiB);
    for (let i = 0; i < 12; i++) {
      chunk.fill(i);
      h.update(chunk);
      writeSync(fd, chunk);
      wb.wrote(chunk.length);
      // let a flush finish now and then, as the event loop does between a put's chunks
      if (i % 3 === 2) await wb.settled();
    }
    await wb.settled();
    closeSync(fd);
    expect(syncs).toBeGreaterThanOrEqual(2);
    expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(h.digest('hex'));
  });

  it('a put larger than the step stores the same bytes', async () => {
    const s = await openBlobStore(await tempDir());
    const total = WRITEBACK_STEP * 2 + 12345;
    const h = createHash('sha256');
    async function* src() {
      for (let off = 0, i = 0; off < total; i++) {
        const c = Buffer.alloc(Math.min(300_000, total - off), i & 0xff);
        h.update(c);
        off += c.length;
        yield c;
      }
    }
    const { digest, size } = await s.put(src());
    expect(size).toBe(total);
    expect(digest).toBe(`sha256:${h.digest('hex')}`);
    expect(createHash('sha256').update(readFileSync(s.path(digest))).digest('hex')).toBe(digest.slice(7));
  });
});
