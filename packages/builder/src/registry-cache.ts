import { StrataError } from '@strata/errors';
import { MediaType, parseImageConfig, parseReference, withDefaultTag, type Digest } from '@strata/oci';
import { imageFromParts } from '@strata/image';
import { layerFromBlob } from '@strata/layer';
import { openDistribution, type Store } from '@strata/image-store';
import { openLayerCache, type CacheRecord, type LayerCache } from '@strata/layer-cache';
import type { RegistryOptions } from '@strata/registry';

/**
 * The build cache in a registry (`--cache-to` / `--cache-from type=registry,ref=R`), documented
 * in packages/registry/README.md: an OCI image whose layers are the cached layers (the store's
 * uncompressed tars, compressed for the registry) and whose config is a valid image config with
 * `rootfs.diff_ids` for those layers plus one extra key, `strata.build-cache.v1`: the records,
 * `{key, created, description?, layer?: <index into diff_ids>}`. Step keys are the local cache's
 * (parent chainID + step + input digests), so a record found there is a step not run again.
 */
export const CACHE_CONFIG_KEY = 'strata.build-cache.v1';

interface ExportedRecord {
  key: string;
  created: string;
  description?: string;
  layer?: number;
}

/** A layer cache that also answers from imported registry records, and remembers what the build used. */
export interface BuildCache extends LayerCache {
  used(): CacheRecord[];
}

function tracking(cache: LayerCache, imported: Map<string, CacheRecord>): BuildCache {
  const used = new Map<string, CacheRecord>();
  return {
    ...cache,
    dir: cache.dir,
    async get(key) {
      let rec = await cache.get(key);
      if (!rec) {
        const remote = imported.get(key);
        if (remote) {
          // Make it a local record: its layer was pulled with the cache image.
          await cache.put(remote);
          rec = await cache.get(key);
        }
      }
      if (rec) used.set(key, rec);
      return rec;
    },
    async put(rec) {
      await cache.put(rec);
      used.set(rec.key, rec);
    },
    used: () => [...used.values()],
  };
}

function parseCacheRef(ref: string): ReturnType<typeof parseReference> {
  try {
    return withDefaultTag(parseReference(ref));
  } catch (err) {
    throw new StrataError('USAGE', `cache ref ${JSON.stringify(ref)}: ${(err as Error).message}`);
  }
}

/** Pull each `--cache-from` image into the store and read its records (a missing cache is no error, as BuildKit). */
async function importCaches(store: Store, refs: string[], registry: RegistryOptions, warn: (m: string) => void): Promise<Map<string, CacheRecord>> {
  const out = new Map<string, CacheRecord>();
  if (refs.length === 0) return out;
  const { openRegistries, pullImage } = await import('@strata/registry');
  const registries = openRegistries(registry);
  try {
    for (const ref of refs) {
      let id: Digest;
      try {
        id = (await pullImage({ registries, reference: parseCacheRef(ref), root: store.root, openStore: async () => store, distribution: openDistribution(store.root) })).id;
      } catch (err) {
        if (err instanceof StrataError && (err.code === 'NOT_FOUND' || err.code === 'NETWORK_ERROR')) {
          warn(`cache-from ${ref}: ${err.message}`);
          continue;
        }
        throw err;
      }
      const raw = await store.blobs.read(id);
      const config = parseImageConfig(raw);
      const records = (config[CACHE_CONFIG_KEY] as { records?: ExportedRecord[] } | undefined)?.records;
      if (!Array.isArray(records)) throw new StrataError('INVALID_MANIFEST', `cache-from ${ref}: not a strata build cache (no ${CACHE_CONFIG_KEY} in its config)`);
      const diffIds = config.rootfs.diff_ids;
      for (const r of records) {
        if (typeof r.key !== 'string' || typeof r.created !== 'string') continue;
        const diffId = r.layer !== undefined ? diffIds[r.layer] : undefined;
        if (r.layer !== undefined && !diffId) continue;
        const size = diffId ? await store.blobs.size(diffId) : undefined;
        if (diffId && size === undefined) continue;
        out.set(r.key, { key: r.key, created: r.created, ...(r.description ? { description: r.description } : {}), ...(diffId ? { layer: { digest: diffId, size: size!, mediaType: MediaType.OCI_LAYER } } : {}) });
      }
    }
  } finally {
    await registries.close();
  }
  return out;
}

/** The build's layer cache: the store's, answering also from `--cache-from` images. */
export async function openBuildCache(store: Store, opts: { cacheFrom?: string[]; registry?: RegistryOptions; warn: (m: string) => void }): Promise<BuildCache> {
  const imported = opts.registry ? await importCaches(store, opts.cacheFrom ?? [], opts.registry, opts.warn) : new Map<string, CacheRecord>();
  return tracking(openLayerCache(store.blobs), imported);
}

/** Push the records a build used (and their layers) as a cache image to `ref`. */
export async function exportBuildCache(store: Store, records: CacheRecord[], ref: string, registry: RegistryOptions): Promise<{ digest: Digest }> {
  const diffIds: Digest[] = [];
  const exported: ExportedRecord[] = [];
  const layers = [];
  for (const r of [...records].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    let layer: number | undefined;
    if (r.layer) {
      layer = diffIds.indexOf(r.layer.digest);
      if (layer < 0) {
        layer = diffIds.push(r.layer.digest) - 1;
        const d = r.layer.digest;
        const open = () => store.blobs.open(d);
        layers.push(layerFromBlob({ mediaType: MediaType.OCI_LAYER, digest: d, size: r.layer.size, diffId: d, open, openUncompressed: open }));
      }
    }
    exported.push({ key: r.key, created: r.created, ...(r.description ? { description: r.description } : {}), ...(layer !== undefined ? { layer } : {}) });
  }
  const config = {
    architecture: 'amd64',
    os: 'linux',
    config: { Labels: { 'dev.strata.build-cache': 'v1' } },
    rootfs: { type: 'layers', diff_ids: diffIds },
    [CACHE_CONFIG_KEY]: { records: exported },
  };
  const image = imageFromParts({ rawConfig: Buffer.from(JSON.stringify(config)), layers });
  const { openRegistries, pushImage } = await import('@strata/registry');
  const registries = openRegistries(registry);
  try {
    const r = await pushImage({ registries, reference: parseCacheRef(ref), image, distribution: openDistribution(store.root) });
    return { digest: r.digest };
  } finally {
    await registries.close();
  }
}
