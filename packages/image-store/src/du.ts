import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { isIndexMediaType, isManifestMediaType, layerCompression, type Digest } from '@strata/oci';
import { readIndex } from './index-file';
import { childrenOf } from './reachable';
import { cacheRoots, type ImagesInUse } from './side-state';
import { layerContentSize } from './content-size';
import type { Store } from './store';

export interface DiskUsage {
  /** manifests, indexes, configs, layers, build-cache (blobs only the cache keeps), unreferenced, tmp, snapshots, containers, writable, volumes, cache */
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
  for (const dir of ['tmp', 'snapshots', 'containers', 'writable', 'volumes', 'cache']) totals.set(dir, await treeSize(join(store.root, dir)));
  return [...totals].map(([kind, t]) => ({ kind, ...t }));
}

/** The Images row of `docker system df`, in bytes (Docker's formatter turns them into text). */
export interface ImagesUsage {
  totalCount: number;
  /** Images that at least one container uses (any state). */
  active: number;
  /** Σ of every distinct layer's size (Docker's LayersSize: a shared layer once). */
  size: number;
  /**
   * `size` − Σ over active images of (their size − their shared size): Docker's figure, in which a
   * layer an active image shares with another image still counts as reclaimable.
   */
  reclaimable: number;
}

/** Docker's image figures for `system df`, each layer sized as Docker sizes it (regular-file bytes). */
export async function imagesUsage(store: Store, opts: { usedBy?: ImagesInUse } = {}): Promise<ImagesUsage> {
  const used: ImagesInUse = opts.usedBy ?? new Map();
  const images = await store.images();
  const layerSize = new Map<Digest, number>();
  const refs = new Map<Digest, number>();
  const layersOf = images.map((img) => {
    const digests = [...new Set(img.manifest.layers.map((l) => l.digest))];
    for (const l of img.manifest.layers) {
      if (!layerSize.has(l.digest)) {
        const local = layerCompression(l.mediaType) === 'none' ? layerContentSize(store.blobs.path(l.digest)) : undefined;
        layerSize.set(l.digest, local ?? l.size);
      }
    }
    for (const d of digests) refs.set(d, (refs.get(d) ?? 0) + 1);
    return digests;
  });
  let size = 0;
  for (const n of layerSize.values()) size += n;
  let usedBytes = 0;
  let active = 0;
  images.forEach((img, i) => {
    if (!used.has(img.id)) return;
    active++;
    const own = layersOf[i].reduce((a, d) => a + layerSize.get(d)!, 0);
    const shared = layersOf[i].reduce((a, d) => a + (refs.get(d)! > 1 ? layerSize.get(d)! : 0), 0);
    usedBytes += own - shared;
  });
  return { totalCount: images.length, active, size, reclaimable: size - usedBytes };
}
