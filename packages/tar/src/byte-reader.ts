import { StrataError } from '@strata/errors';

const EMPTY = Buffer.alloc(0);

/** Pulls exact byte counts out of an async chunk stream without copying more than needed. */
export interface ByteReader {
  /** Exactly `n` bytes, or undefined at a clean end of stream (no bytes at all). */
  exact(n: number): Promise<Buffer | undefined>;
  skip(n: number): Promise<void>;
  /** The next chunk of at most `max` bytes (a view; valid until the next read). */
  chunk(max: number): Promise<Buffer>;
  /** Bytes consumed so far (the offset of the next byte in the stream). */
  position(): number;
  /** Release the source iterator. */
  close(): Promise<void>;
}

export function byteReader(src: AsyncIterable<Uint8Array>, what = 'tar stream'): ByteReader {
  const it = src[Symbol.asyncIterator]();
  let buf: Buffer = EMPTY;
  let ended = false;
  let total = 0; // bytes received from the source
  const truncated = () => new StrataError('INVALID_TAR', `${what} is truncated`);

  async function fill(): Promise<boolean> {
    if (ended) return false;
    const r = await it.next();
    if (r.done) {
      ended = true;
      return false;
    }
    const c = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    total += c.length;
    buf = buf.length === 0 ? c : Buffer.concat([buf, c]);
    return true;
  }

  return {
    async exact(n) {
      while (buf.length < n) {
        if (!(await fill())) {
          if (buf.length === 0) return undefined;
          throw truncated();
        }
      }
      const out = buf.subarray(0, n);
      buf = buf.subarray(n);
      return out;
    },
    async chunk(max) {
      if (buf.length === 0 && !(await fill())) throw truncated();
      const take = Math.min(max, buf.length);
      const out = buf.subarray(0, take);
      buf = buf.subarray(take);
      return out;
    },
    async skip(n) {
      let left = n;
      while (left > 0) {
        if (buf.length === 0 && !(await fill())) throw truncated();
        const take = Math.min(left, buf.length);
        buf = buf.subarray(take);
        left -= take;
      }
    },
    position: () => total - buf.length,
    async close() {
      if (!ended) {
        ended = true;
        await it.return?.();
      }
    },
  };
}
