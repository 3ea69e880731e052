import { mkdirSync, rmSync, createReadStream, openSync, closeSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { layerCompression, Hasher, type Digest } from '@strata/oci';
import type { Layer } from '@strata/layer';
import type { Image } from './types';

/** One image to write into an archive, with the references it goes out under (normalised). */
export interface SaveEntry {
  image: Image;
  tags: string[];
}

/** Temp files for a save (compressed layers), in ROOT/tmp so a crash leaves only tmp garbage. */
export interface Scratch {
  file(): string;
  remove(): void;
}

export function createScratch(tmpRoot: string, purpose: string): Scratch {
  let dir: string | undefined;
  let n = 0;
  return {
    file: () => {
      if (!dir) {
        dir = join(tmpRoot, `${purpose}-${process.pid}-${randomBytes(6).toString('hex')}`);
        mkdirSync(dir, { recursive: true });
      }
      return join(dir, `f-${n++}`);
    },
    remove: () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Write a stream to a file, hashing it; returns digest and size. */
export async function spool(src: AsyncIterable<Uint8Array>, file: string): Promise<{ digest: Digest; size: number }> {
  const fd = openSync(file, 'wx', 0o600);
  const h = new Hasher();
  try {
    for await (const chunk of src) {
      h.update(chunk);
      let off = 0;
      while (off < chunk.byteLength) off += writeSync(fd, chunk, off, chunk.byteLength - off);
    }
  } finally {
    closeSync(fd);
  }
  return { digest: h.digest(), size: h.size };
}

export function readFileStream(file: string): AsyncIterable<Uint8Array> {
  return createReadStream(file, { highWaterMark: 1024 * 1024 });
}

/** A layer's uncompressed tar with its size known up front (a tar header needs it). */
export async function uncompressedLayer(layer: Layer, scratch: Scratch): Promise<{ diffId: Digest; size: number; open: () => Promise<AsyncIterable<Uint8Array>> }> {
  const diffId = await layer.diffId();
  if (layer.uncompressedSize) {
    const size = await layer.uncompressedSize();
    return { diffId, size, open: () => layer.uncompressed() };
  }
  if (layerCompression(await layer.mediaType()) === 'none') {
    const size = await layer.size();
    return { diffId, size, open: () => layer.uncompressed() };
  }
  const file = scratch.file();
  const { size } = await spool(await layer.uncompressed(), file);
  return { diffId, size, open: async () => readFileStream(file) };
}
