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
    if (entry.name?.startsWith('/')) {
      // The union view follows the same rule as extraction: no absolute names.
      const { StrataError } = await import('@strata/errors');
      throw new StrataError('UNSAFE_PATH', `${what}: entry ${JSON.stringify(entry.name)} has an absolute name`);
    }
    out.push({ ...entry, offset });
  }
  return out;
}
