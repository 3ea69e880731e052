import { spawn } from 'node:child_process';
import { Readable, type Transform } from 'node:stream';
import { createDeflateRaw, createGunzip, createGzip, deflateRawSync, constants as zlibConstants } from 'node:zlib';
import { StrataError } from '@strata/errors';
import type { ByteStream } from './types';

/** Every stream encoding strata reads. Layers are written as none, gzip or zstd. */
export type Encoding = 'none' | 'gzip' | 'zstd' | 'bzip2' | 'xz';

export interface CompressOptions {
  /** gzip: zlib's default (6). zstd: 3, the zstd CLI's default. */
  level?: number;
}

const CHUNK = 256 * 1024;

// The native zstd and CRC-32 bindings are loaded on first use: most commands compress nothing.
const zstd = () => import('zstd-napi');
const crc32Binding = () => import('@node-rs/crc32');

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
    const level = opts.level ?? zlibConstants.Z_DEFAULT_COMPRESSION;
    return level === 0 ? through(src, () => createGzip({ level, chunkSize: CHUNK }), encoding, 'gzip', () => false) : adaptiveGzip(src, level);
  }
  return through(src, async () => new (await zstd()).CompressStream({ compressionLevel: opts.level ?? 3, nbWorkers: 2 }), encoding, 'zstd', () => false);
}

/** gzip decides per block of this many input bytes whether to deflate it (see adaptiveGzip). */
const GZIP_BLOCK = 1024 * 1024;
/** Four samples of this many bytes a block are tried. */
const PROBE = 4096;

/**
 * Whether a block is worth deflating: four 4 KiB samples (at 0, ¼, ½ and ¾ of it) deflated at
 * the stream's level; when none of them saves 3 %, the block is taken as incompressible (random,
 * or already compressed: a .gz, a JPEG, packed data). ≈0.4 ms a MiB, against ≈26 ms to deflate
 * a MiB of such data at level 1 with node 20's zlib (38 MB/s; stored: 250 MB/s).
 */
function worthDeflating(block: Buffer, level: number): boolean {
  if (block.length <= PROBE) return true;
  for (let i = 0; i < 4; i++) {
    const at = Math.min(Math.floor((block.length * i) / 4), block.length - PROBE);
    const sample = block.subarray(at, at + PROBE);
    if (deflateRawSync(sample, { level }).length < sample.length * 0.97) return true;
  }
  return false;
}

/** The input again in blocks of exactly `size` bytes (the last one shorter): what a block holds does not depend on how the input was cut. */
async function* reblock(src: ByteStream, size: number): AsyncIterable<Buffer> {
  let parts: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of src) {
    let c = chunk;
    while (n + c.length >= size) {
      const take = size - n;
      parts.push(c.subarray(0, take));
      yield Buffer.concat(parts, size);
      parts = [];
      n = 0;
      c = c.subarray(take);
    }
    if (c.length) {
      parts.push(c);
      n += c.length;
    }
  }
  if (n) yield Buffer.concat(parts, n);
}

/** The gzip header zlib writes (no name, no time; XFL says fastest or best as zlib does; OS Unix). */
function gzipHeader(level: number): Buffer {
  return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level === 1 ? 4 : level === 9 ? 2 : 0, 3]);
}

/**
 * One gzip stream whose blocks are deflated at `level` or stored, as each 1 MiB of input is
 * worth: incompressible data (a layer of media or archives) costs a copy instead of a futile
 * deflate — node 20's zlib deflates random bytes at 38 MB/s at level 1, most of a push's CPU.
 * The deflate data is zlib's (raw deflate; a switch of level is its `deflateParams` after a sync
 * flush, 4 bytes — node's Gzip stream ignores `params()`, its DeflateRaw does not); the gzip
 * header and trailer (CRC-32 and length) are written here. Every decoder reads the result, and
 * it depends only on the input bytes (fixed blocks, the decision from the block alone, each
 * switch awaited before the next write), so a layer compressed twice has one digest. Changing
 * GZIP_BLOCK, PROBE or the 3 % changes the digests of layers compressed afterwards.
 */
function adaptiveGzip(src: ByteStream, level: number): ByteStream {
  return (async function* () {
    const { crc32 } = await crc32Binding();
    const deflate = createDeflateRaw({ level, chunkSize: CHUNK });
    const ready: Buffer[] = [];
    let failure: Error | undefined;
    let ended = false;
    let wake: (() => void) | undefined;
    const signal = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    deflate.on('data', (b: Buffer) => {
      ready.push(b);
      signal();
    });
    deflate.on('end', () => {
      ended = true;
      signal();
    });
    deflate.on('error', (err: Error) => {
      failure = err;
      signal();
    });
    const drained = () =>
      new Promise<void>((resolve) => {
        const done = () => {
          deflate.off('drain', done);
          deflate.off('error', done);
          resolve();
        };
        deflate.on('drain', done);
        deflate.on('error', done);
      });
    let crc = 0;
    let length = 0;
    let current = level;
    try {
      yield gzipHeader(level);
      for await (const block of reblock(src, GZIP_BLOCK)) {
        crc = crc32(block, crc);
        length += block.length;
        const want = worthDeflating(block, level) ? level : 0;
        if (want !== current) {
          await new Promise<void>((resolve) => deflate.params(want, zlibConstants.Z_DEFAULT_STRATEGY, () => resolve()));
          current = want;
        }
        if (!deflate.write(block)) await drained();
        if (failure) throw failure;
        while (ready.length) yield ready.shift()!;
      }
      deflate.end();
      for (;;) {
        if (failure) throw failure;
        if (ready.length) yield ready.shift()!;
        else if (ended) break;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(crc >>> 0, 0);
      trailer.writeUInt32LE(length % 2 ** 32, 4);
      yield trailer;
    } finally {
      deflate.destroy();
    }
  })();
}
