import { readTar, type TarEntry } from '@strata/tar';
import type { ByteStream } from '@strata/layer';

/** An entry of a layer tar with the offset of its content in the tar. */
export interface IndexedEntry extends TarEntry {
  offset: number;
}

/**
 * One pass over a layer tar: every entry's metadata and content offset, no content kept.
 * Paths are cleaned (a `..` escape is UNSAFE_PATH naming the entry).
 */
export async function indexLayer(tar: ByteStream, what = 'layer'): Promise<IndexedEntry[]> {
  const out: IndexedEntry[] = [];
  for await (const { entry, offset } of readTar(tar, { what })) {
    out.push({ ...entry, offset });
  }
  return out;
}
