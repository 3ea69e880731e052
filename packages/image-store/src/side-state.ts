import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { StrataError } from '@strata/errors';
import { isDigest, type Digest } from '@strata/oci';

/**
 * Image ID → IDs of the containers that use it. The container records are @strata/container's:
 * callers ask it (`imagesInUse(root)`) and hand the answer to `removeImages`, `pruneImages` and
 * `imagesUsage`; without one, no image counts as used.
 */
export type ImagesInUse = ReadonlyMap<string, readonly string[]>;

/**
 * Extra GC roots: every digest listed in `ROOT/cache/roots/*.json` (a JSON array of digest
 * strings, or an object with a `digests` array). The build cache registers the blobs its records
 * reference this way; a manifest or config digest listed here also keeps that image from prune.
 */
export async function cacheRoots(root: string): Promise<Set<Digest>> {
  const out = new Set<Digest>();
  const dir = join(root, 'cache', 'roots');
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    if (!n.endsWith('.json')) continue;
    try {
      const v = JSON.parse(await fsp.readFile(join(dir, n), 'utf8')) as unknown;
      const list = Array.isArray(v) ? v : Array.isArray((v as { digests?: unknown })?.digests) ? (v as { digests: unknown[] }).digests : [];
      for (const d of list) if (typeof d === 'string' && isDigest(d)) out.add(d);
    } catch (err) {
      // GC must not guess what an unreadable root file meant to keep: refuse to run instead.
      throw new StrataError('STORE_CORRUPT', `unreadable build-cache root file ${join(dir, n)}`, { cause: err });
    }
  }
  return out;
}
