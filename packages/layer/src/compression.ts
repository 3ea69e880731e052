import { spawn } from 'node:child_process';
import { Readable, type Transform } from 'node:stream';
import { createGunzip, createGzip, constants as zlibConstants } from 'node:zlib';
import { StrataError } from '@strata/errors';
import type { ByteStream } from './types';

/** Every stream encoding strata reads. Layers are written as none, gzip or zstd. */
export type Encoding = 'none' | 'gzip' | 'zstd' | 'bzip2' | 'xz';

export interface CompressOptions {
  /** gzip: zlib's default (6). zstd: 3, the zstd CLI's default. */
  level?: number;
}

const CHUNK = 256 * 1024;

// The native zstd binding is loaded on first use: most commands never see a zstd stream.
const zstd = () => import('zstd-napi');

/**
 * A Transform stream (zlib's, zstd-napi's) fed from an async iterable, with codec failures
 * turned into `what: corrupt <encoding> data` and the input torn down when the reader stops.
 */
function through(src: ByteStream, makeCodec: () => Transform | Promise<Transform>, encoding: Encoding, what: string, corrupt: (err: NodeJS.ErrnoException) => boolean): ByteStream {
  return (async function* () {
    const codec = await makeCodec();
    const input = Readable.from(src, { objectMode: false });
    input.on('error', (err) => codec.destroy(err));
    input.pipe(codec);
    try {
      for await (const chunk of codec) yield chunk as Buffer;
    } catch (err) {
      if (err instanceof StrataError) throw err;
      const e = err as NodeJS.ErrnoException;
      if (corrupt(e)) throw new StrataError('INVALID_ARCHIVE', `${what}: corrupt ${encoding} data (${e.message})`, { cause: err });
      throw err;
    } finally {
      input.destroy();
      codec.destroy();
    }
  })();
}

const zlibFailure = (e: NodeJS.ErrnoException) => typeof e?.code === 'string' && e.code.startsWith('Z_');
// zstd-napi reports a bad frame as a plain Error from the native decoder.
const zstdFailure = (e: NodeJS.ErrnoException) => e instanceof Error && e.code === undefined;

/** The programs for the formats no library here decodes (bzip2 and xz archives in `ADD` and `image load`): the one place they are spawned. */
const TOOLS: Record<'bzip2' | 'xz', string> = { bzip2: 'bzip2', xz: 'xz' };

function throughTool(src: ByteStream, encoding: 'bzip2' | 'xz', what: string): ByteStream {
  const cmd = TOOLS[encoding];
  return (async function* () {
    const child = spawn(cmd, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const exited = new Promise<number | null>((resolve, reject) => {
      child.on('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'ENOENT' ? new StrataError('UNSUPPORTED', `${what} is ${encoding}-compressed and the \`${cmd}\` program is not installed`, { hint: `install ${cmd}` }) : err),
      );
      child.on('close', (code) => resolve(code));
    });
    child.stdin.on('error', () => {});
    // The feeder runs beside the reader; a failed program closes stdin, which ends the feeder.
    const fed = (async () => {
      try {
        for await (const chunk of src) {
          if (!child.stdin.write(chunk)) await new Promise<void>((r) => child.stdin.once('drain', r).once('close', r));
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
      if (code !== 0) throw new StrataError('INVALID_ARCHIVE', `${what}: corrupt ${encoding} data (${stderr.trim().split('\n')[0] || `exit ${code}`})`);
    } finally {
      if (child.exitCode === null) child.kill();
      await fed.catch(() => {});
      await exited.catch(() => {});
    }
  })();
}

/** Decompress a stream, streaming (never holding the input): gzip by zlib, zstd by zstd-napi, bzip2/xz by their programs. */
export function decompress(src: ByteStream, encoding: Encoding, what = 'stream'): ByteStream {
  switch (encoding) {
    case 'none':
      return src;
    case 'gzip':
      return through(src, () => createGunzip({ chunkSize: CHUNK }), encoding, what, zlibFailure);
    case 'zstd':
      return through(src, async () => new (await zstd()).DecompressStream(), encoding, what, zstdFailure);
    default:
      return throughTool(src, encoding, what);
  }
}

/**
 * Compress for distribution, in process. The output depends only on the input and the options
 * (zstd runs with worker threads, whose output zstd keeps identical for any worker count), so a
 * layer compressed twice gives one digest.
 */
export function compress(src: ByteStream, encoding: 'gzip' | 'zstd', opts: CompressOptions = {}): ByteStream {
  if (encoding === 'gzip') {
    return through(src, () => createGzip({ level: opts.level ?? zlibConstants.Z_DEFAULT_COMPRESSION, chunkSize: CHUNK }), encoding, 'gzip', () => false);
  }
  return through(src, async () => new (await zstd()).CompressStream({ compressionLevel: opts.level ?? 3, nbWorkers: 2 }), encoding, 'zstd', () => false);
}
