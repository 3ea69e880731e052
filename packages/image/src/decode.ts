import { sniffCompression } from '@strata/oci';
import type { Encoding } from '@strata/layer';

// Stream helpers of the archive readers; the codecs are @strata/layer's compress/decompress.
export type { Encoding };

/** Resolve on 'drain' or 'close', whichever comes first, leaving no listener behind. */
export function drained(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
  });
}

/** A writable end such as a tar-stream extract (whose typings lack `end`). */
type FeedTarget = NodeJS.EventEmitter & { write(chunk: Uint8Array): boolean; destroy(err?: Error): void; readonly destroyed: boolean };

/**
 * Write `src` into `target` with backpressure, then end it; a source error destroys `target`
 * with that error. Stops early once `target` is destroyed (its reader gave up). Never rejects.
 */
export async function feed(target: FeedTarget, src: AsyncIterable<Uint8Array>): Promise<void> {
  try {
    for await (const chunk of src) {
      if (!target.write(chunk)) await drained(target);
      if (target.destroyed) return;
    }
    (target as unknown as { end(): void }).end();
  } catch (err) {
    target.destroy(err as Error);
  }
}

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
