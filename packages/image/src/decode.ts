import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { createGunzip, createGzip, constants as zlibConstants } from 'node:zlib';
import { StrataError } from '@strata/errors';
import { sniffCompression } from '@strata/oci';

export type Encoding = 'none' | 'gzip' | 'zstd' | 'bzip2' | 'xz';

/** Tools for the formats Node has no codec for (zstd is the `zstd` CLI, streaming). */
const DECODERS: Record<'zstd' | 'bzip2' | 'xz', [string, string[]]> = {
  zstd: ['zstd', ['-dcq']],
  bzip2: ['bzip2', ['-dc']],
  xz: ['xz', ['-dc']],
};

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

/** Pipe a stream through a program's stdin/stdout, streaming both ways. */
function throughTool(
  src: AsyncIterable<Uint8Array>,
  cmd: string,
  args: string[],
  errors: { missing: () => StrataError; failed: (detail: string) => StrataError },
): AsyncIterable<Uint8Array> {
  return (async function* () {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const exited = new Promise<number | null>((resolve, reject) => {
      child.on('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ENOENT' ? errors.missing() : err));
      child.on('close', (code) => resolve(code));
    });
    // The feeder runs beside the reader; a failed program closes stdin, which ends the feeder.
    child.stdin.on('error', () => {});
    const fed = (async () => {
      try {
        for await (const chunk of src) {
          if (!child.stdin.write(chunk)) await drained(child.stdin);
          if (child.stdin.destroyed) break;
        }
      } finally {
        child.stdin.end();
      }
    })();
    fed.catch(() => child.kill());
    try {
      for await (const chunk of child.stdout) yield chunk as Buffer;
      await fed;
      const code = await exited;
      if (code !== 0) throw errors.failed(stderr.trim().split('\n')[0] || `exit ${code}`);
    } finally {
      if (child.exitCode === null) child.kill();
      await fed.catch(() => {});
    }
  })();
}

function decodeWithTool(src: AsyncIterable<Uint8Array>, encoding: 'zstd' | 'bzip2' | 'xz', what: string): AsyncIterable<Uint8Array> {
  const [cmd, args] = DECODERS[encoding];
  return throughTool(src, cmd, args, {
    missing: () => new StrataError('UNSUPPORTED', `${what} is ${encoding}-compressed and the \`${cmd}\` program is not installed`, { hint: `install ${cmd}` }),
    failed: (detail) => new StrataError('INVALID_ARCHIVE', `${what}: corrupt ${encoding} data (${detail})`),
  });
}

/** Decompress a stream of `encoding` (streaming; never buffers the whole input). */
export function decode(src: AsyncIterable<Uint8Array>, encoding: Encoding, what: string): AsyncIterable<Uint8Array> {
  if (encoding === 'none') return src;
  if (encoding !== 'gzip') return decodeWithTool(src, encoding, what);
  return (async function* () {
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    const input = Readable.from(src, { objectMode: false });
    input.on('error', (err) => gunzip.destroy(err));
    input.pipe(gunzip);
    try {
      for await (const chunk of gunzip) yield chunk as Buffer;
    } catch (err) {
      if (err instanceof StrataError) throw err;
      const e = err as NodeJS.ErrnoException;
      if (typeof e?.code === 'string' && e.code.startsWith('Z_')) throw new StrataError('INVALID_ARCHIVE', `${what}: corrupt gzip data (${e.message})`, { cause: err });
      throw err;
    } finally {
      input.destroy();
    }
  })();
}

/** Compress for distribution: gzip in-process, zstd through the `zstd` CLI. */
export function encode(src: AsyncIterable<Uint8Array>, encoding: 'gzip' | 'zstd'): AsyncIterable<Uint8Array> {
  if (encoding === 'gzip') {
    const gzip = createGzip({ level: zlibConstants.Z_DEFAULT_COMPRESSION, chunkSize: 256 * 1024 });
    const input = Readable.from(src, { objectMode: false });
    input.on('error', (err) => gzip.destroy(err));
    return input.pipe(gzip);
  }
  return throughTool(src, 'zstd', ['-cq', '-3', '-T0'], {
    missing: () => new StrataError('UNSUPPORTED', 'zstd compression needs the `zstd` program', { hint: 'install zstd or use --compress gzip' }),
    failed: (detail) => new StrataError('IO_ERROR', `zstd failed: ${detail}`),
  });
}
