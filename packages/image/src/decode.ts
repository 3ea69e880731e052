import { sniffCompression } from '@strata/oci';
import type { Encoding } from '@strata/layer';

// Stream helpers of the archive readers; the codecs are @strata/layer's compress/decompress.
export type { Encoding };

/** Read chunks until at least `n` bytes are seen (or the stream ends); returns them and the rest. */
export async function peek(src: AsyncIterable<Uint8Array>, n: number): Promise<{ head: Buffer; rest: AsyncIterable<Uint8Array> }> {
  const it = src[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let len = 0;
  let done = false;
  while (len < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    chunks.push(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength));
    len += r.value.byteLength;
  }
  const head = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  const rest: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => {
      let first = head.length > 0;
      return {
        next: async () => {
          if (first) {
            first = false;
            return { done: false, value: head };
          }
          if (done) return { done: true, value: undefined };
          return it.next();
        },
        return: async () => {
          await it.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
  return { head, rest };
}

/** The compression of a stream, detected from its first bytes (never from a name). */
export async function sniff(src: AsyncIterable<Uint8Array>): Promise<{ encoding: Encoding; stream: AsyncIterable<Uint8Array> }> {
  const { head, rest } = await peek(src, 6);
  return { encoding: sniffCompression(head), stream: rest };
}
