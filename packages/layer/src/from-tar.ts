import { createReadStream, createWriteStream, openSync, readSync, closeSync, statSync, rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { StrataError } from '@strata/errors';
import { Hasher, MediaType, sniffCompression, type Compression, type Digest } from '@strata/oci';
import { layerFromUncompressed } from './from-opener';
import { decompress } from './compression';
import type { ByteStream, Layer } from './types';

function sniffFile(path: string): Compression {
  const fd = openSync(path, 'r');
  const head = Buffer.alloc(8);
  const n = readSync(fd, head, 0, 8, 0);
  closeSync(fd);
  const c = sniffCompression(head.subarray(0, n));
  if (c === 'bzip2' || c === 'xz') throw new StrataError('UNSUPPORTED', `${path}: ${c} layers are not supported`);
  return c;
}

/**
 * A layer from a tar file on disk, plain or compressed (gzip / zstd, detected by content).
 * For a compressed file, digest/size describe the file and diffID the tar inside.
 */
export function layerFromTarFile(path: string, opts: { diffId?: Digest } = {}): Layer {
  const c = sniffFile(path);
  const open = async () => createReadStream(path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Uint8Array>;
  if (c === 'none') return layerFromUncompressed({ open, diffId: opts.diffId, size: opts.diffId ? statSync(path).size : undefined });
  const raw = layerFromUncompressed({ open });
  const inner = layerFromUncompressed({ open: async () => decompress(await open(), c), diffId: opts.diffId });
  return {
    digest: raw.digest,
    size: raw.size,
    diffId: inner.diffId,
    uncompressedSize: inner.size,
    mediaType: async () => (c === 'gzip' ? MediaType.OCI_LAYER_GZIP : MediaType.OCI_LAYER_ZSTD),
    compressed: open,
    uncompressed: () => inner.uncompressed(),
  };
}

/**
 * Write a tar stream to a file in `dir` while hashing it: one pass gives a file-backed layer
 * with diffID, digest and size known. The caller removes the file (`remove()`) when done.
 */
export async function spoolLayer(src: ByteStream, dir: string): Promise<Layer & { path: string; remove(): void }> {
  const path = join(dir, `layer-${randomBytes(8).toString('hex')}.tar`);
  const h = new Hasher();
  try {
    await pipeline(
      Readable.from(
        (async function* () {
          for await (const c of src) {
            h.update(c);
            yield c;
          }
        })(),
      ),
      createWriteStream(path),
    );
  } catch (err) {
    rmSync(path, { force: true });
    throw err;
  }
  const digest = h.digest();
  const layer = layerFromUncompressed({ open: async () => createReadStream(path, { highWaterMark: 256 * 1024 }), diffId: digest, size: h.size });
  return Object.assign(layer, { path, remove: () => rmSync(path, { force: true }) });
}
