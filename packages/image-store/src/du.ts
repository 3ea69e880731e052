import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { isIndexMediaType, isManifestMediaType, layerCompression, type Digest } from '@strata/oci';
import { readIndex } from './index-file';
import { childrenOf } from './reachable';
import { cacheRoots } from './side-state';
import type { Store } from './store';

export interface DiskUsage {
  /** manifests, indexes, configs, layers, build-cache (blobs only the cache keeps), unreferenced, tmp, snapshots, containers, cache */
  kind: string;
  count: number;
  bytes: number;
}

async function treeSize(dir: string): Promise<{ count: number; bytes: number }> {
  let count = 0;
  let bytes = 0;
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return { count, bytes };
  }
  for (const n of names) {
    const p = join(dir, n);
    const st = await fsp.lstat(p).catch(() => undefined);
    if (!st) continue;
    if (st.isDirectory()) {
      const sub = await treeSize(p);
      count += sub.count;
      bytes += sub.bytes;
    } else {
      count++;
      bytes += st.size;
    }
  }
  return { count, bytes };
}

/** Bytes by kind: blobs classified by how index.json reaches them, then the side directories. */
export async function diskUsage(store: Store): Promise<DiskUsage[]> {
  const kindOf = new Map<Digest, string>();
  const queue: Array<{ digest: Digest; kind: string; mediaType?: string }> = [];
  for (const d of (await readIndex(store.root)).manifests) queue.push({ digest: d.digest, kind: '', mediaType: d.mediaType });
  while (queue.length) {
    const { digest, mediaType } = queue.pop()!;
    if (kindOf.has(digest)) continue;
    const kind = isIndexMediaType(mediaType) ? 'indexes' : isManifestMediaType(mediaType) ? 'manifests' : mediaType && layerCompression(mediaType) !== undefined ? 'layers' : 'configs';
    kindOf.set(digest, kind);
    if (kind === 'indexes' || kind === 'manifests') for (const c of await childrenOf(store.blobs, digest, mediaType)) queue.push({ digest: c.digest, kind: '', mediaType: c.mediaType });
  }
  for (const d of await cacheRoots(store.root)) if (!kindOf.has(d)) kindOf.set(d, 'build-cache');
  const totals = new Map<string, { count: number; bytes: number }>();
  for (const k of ['manifests', 'indexes', 'configs', 'layers', 'build-cache', 'unreferenced']) totals.set(k, { count: 0, bytes: 0 });
  for await (const d of store.blobs.list()) {
    const size = await store.blobs.size(d);
    if (size === undefined) continue;
    const t = totals.get(kindOf.get(d) ?? 'unreferenced')!;
    t.count++;
    t.bytes += size;
  }
  for (const dir of ['tmp', 'snapshots', 'containers', 'cache']) totals.set(dir, await treeSize(join(store.root, dir)));
  return [...totals].map(([kind, t]) => ({ kind, ...t }));
}
