import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { StrataError } from '@strata/errors';
import { isDigest, type Digest } from '@strata/oci';

/** Image ID → IDs of containers whose `ROOT/containers/<id>/container.json` names it. */
export async function containersByImage(root: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const dir = join(root, 'containers');
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    try {
      const c = JSON.parse(await fsp.readFile(join(dir, n, 'container.json'), 'utf8')) as { id?: string; image?: string };
      if (typeof c.image !== 'string') continue;
      const list = out.get(c.image) ?? [];
      list.push(typeof c.id === 'string' ? c.id : n);
      out.set(c.image, list);
    } catch {
      // A container being created or removed right now: its json is not there (yet).
    }
  }
  return out;
}

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
