import { StrataError } from '@strata/errors';
import {
  MediaType, layerCompression, ociLayerMediaType, parseManifest, sha256, shortId, withDefaultTag,
  type Descriptor, type Digest, type Manifest, type Reference,
} from '@strata/oci';
import type { Image } from '@strata/image';
import type { Registries, Repository } from './registry';
import { parallel, referenceOf } from './resolve';
import type { DistributionRecords, Progress } from './types';

export interface PushOptions {
  registries: Registries;
  /** Where to (a tag; `:latest` when none). */
  reference: Reference;
  image: Image;
  distribution: DistributionRecords;
  /** Compression for layers the registry has in no form yet (default gzip). */
  compress?: 'gzip' | 'zstd';
  /** Its level: default gzip 1 (go-containerregistry's BestSpeed: the push is CPU-bound), zstd 3. */
  level?: number;
  /** Upload in PATCH chunks of this many bytes (default: one streamed request per layer). */
  chunkSize?: number;
  /** Layers uploaded at once (default 5). */
  jobs?: number;
  progress?: Progress;
  /** Crash tests stop here: `blob-pushed` (each layer uploaded), `config-pushed`, `manifest-pushed`. */
  checkpoint?: (point: string) => void | Promise<void>;
}

export interface PushResult {
  digest: Digest;
  repoDigest: string;
  /** Layer bytes sent (0 when the registry had or could mount every layer). */
  uploadedBytes: number;
  uploaded: number;
  mounted: number;
  skipped: number;
}

const DOCKER_TYPES = new Set<string>([MediaType.DOCKER_LAYER_GZIP, MediaType.DOCKER_LAYER]);

/** Docker's media types for an OCI layer type, where a Docker manifest is written. */
function asOci(mt: string): string {
  if (mt === MediaType.DOCKER_LAYER_GZIP) return MediaType.OCI_LAYER_GZIP;
  if (mt === MediaType.DOCKER_LAYER) return MediaType.OCI_LAYER;
  return mt;
}

/**
 * Push a stored image. For each layer the store's distribution metadata says which compressed
 * blobs it is known as and where they live: a blob the repository has is skipped (HEAD), one
 * elsewhere on the same registry is mounted, and only a layer the registry has in no form is
 * compressed (deterministically: same tar, same digest) and uploaded, its digest remembered.
 * When the image was pulled as (or pushed as) a manifest whose blobs are all there, that manifest
 * is put again byte for byte, so the digest is kept.
 */
export async function pushImage(opts: PushOptions): Promise<PushResult> {
  const progress = opts.progress ?? (() => undefined);
  const ref = withDefaultTag(opts.reference);
  if (ref.digest) throw new StrataError('USAGE', `push: ${ref.domain}/${ref.path}@${ref.digest}: push to a tag, not a digest`);
  const repo = opts.registries.repository(ref.domain, ref.path);
  const img = opts.image;
  const imageId = await img.configDigest();
  const rawConfig = Buffer.from(await img.rawConfig());
  const layers = await img.layers();
  const stats = { uploadedBytes: 0, uploaded: 0, mounted: 0, skipped: 0 };
  progress({ type: 'status', message: `The push refers to repository [${repo.name}]` });

  const current = await repo.headManifest(referenceOf(ref)).catch(() => undefined);
  // 1. A manifest this image already had (pulled or pushed) whose blobs can all be made present.
  const known = opts.distribution.imageSources(imageId).sort((a, b) => Number(b.repository === repo.name) - Number(a.repository === repo.name));
  for (const src of known) {
    let m: Manifest;
    try {
      m = parseManifest(src.manifest);
    } catch {
      continue;
    }
    if (m.config.digest !== imageId || m.layers.length !== layers.length) continue;
    // an explicit --compress asks for that format: a manifest in another is not reused
    if (opts.compress !== undefined && m.layers.some((l) => layerCompression(l.mediaType) !== opts.compress)) continue;
    if (current?.digest === src.digest) {
      for (const l of m.layers) progress({ type: 'layer', id: shortId(l.digest), status: 'Layer already exists' });
      stats.skipped = m.layers.length;
      return finish(src.digest, Buffer.from(src.manifest), src.mediaType, false);
    }
    const fromRepo = src.repository.startsWith(`${repo.domain}/`) && src.repository !== repo.name ? src.repository : undefined;
    const placed = await parallel(m.layers, opts.jobs ?? 5, async (d) => (await placeBlob(repo, d.digest, fromRepo, progress)) ?? false);
    if (placed.every((p) => p !== false)) {
      for (const p of placed) stats[p === 'mounted' ? 'mounted' : 'skipped']++;
      await ensureConfig(repo, imageId, rawConfig, progress);
      return finish(src.digest, Buffer.from(src.manifest), src.mediaType, true);
    }
  }

  // 2. Layer by layer: skip, mount, or compress and upload.
  const encoding = opts.compress ?? 'gzip';
  const { compress } = await import('@strata/layer');
  const descs = await parallel(layers, opts.jobs ?? 5, async (layer): Promise<Descriptor> => {
    const diffId = await layer.diffId();
    const candidates = opts.distribution
      .layerSources(diffId)
      .filter((s) => layerCompression(s.mediaType) !== 'none' && (opts.compress === undefined || layerCompression(s.mediaType) === opts.compress))
      .sort((a, b) => Number(b.repositories.includes(repo.name)) - Number(a.repositories.includes(repo.name)));
    for (const c of candidates) {
      const from = c.repositories.find((r) => r.startsWith(`${repo.domain}/`) && r !== repo.name);
      const how = await placeBlob(repo, c.digest, from, progress);
      if (how) {
        stats[how === 'mounted' ? 'mounted' : 'skipped']++;
        await opts.distribution.addLayerSource(diffId, { digest: c.digest, size: c.size, mediaType: c.mediaType, repository: repo.name });
        return { mediaType: c.mediaType, digest: c.digest, size: c.size };
      }
    }
    const id = shortId(diffId);
    progress({ type: 'layer', id, status: 'Pushing', current: 0 });
    const level = opts.level ?? (encoding === 'gzip' ? 1 : 3);
    const { digest, size } = await repo.upload(async () => compress(await layer.uncompressed(), encoding, { level }), undefined, {
      chunkSize: opts.chunkSize,
      onProgress: (sent) => progress({ type: 'layer', id, status: 'Pushing', current: sent }),
    });
    await opts.checkpoint?.('blob-pushed');
    stats.uploaded++;
    stats.uploadedBytes += size;
    const mediaType = ociLayerMediaType(encoding);
    await opts.distribution.addLayerSource(diffId, { digest, size, mediaType, repository: repo.name });
    progress({ type: 'layer', id, status: 'Pushed' });
    return { mediaType, digest, size };
  });
  await ensureConfig(repo, imageId, rawConfig, progress);
  await opts.checkpoint?.('config-pushed');
  const docker = descs.every((d) => DOCKER_TYPES.has(d.mediaType));
  const manifest: Manifest = docker
    ? {
        schemaVersion: 2,
        mediaType: MediaType.DOCKER_MANIFEST,
        config: { mediaType: MediaType.DOCKER_CONFIG, digest: imageId, size: rawConfig.length },
        layers: descs,
      }
    : {
        schemaVersion: 2,
        mediaType: MediaType.OCI_MANIFEST,
        config: { mediaType: MediaType.OCI_CONFIG, digest: imageId, size: rawConfig.length },
        layers: descs.map((d) => ({ ...d, mediaType: asOci(d.mediaType) })),
      };
  const bytes = Buffer.from(JSON.stringify(manifest));
  return finish(sha256(bytes), bytes, manifest.mediaType!, true);

  async function finish(digest: Digest, bytes: Buffer, mediaType: string, put: boolean): Promise<PushResult> {
    if (put) await repo.putManifest(referenceOf(ref), bytes, mediaType);
    await opts.checkpoint?.('manifest-pushed');
    await opts.distribution.addImageSource(imageId, { repository: repo.name, digest, mediaType, manifest: bytes.toString('utf8') });
    progress({ type: 'status', message: `${ref.tag}: digest: ${digest} size: ${bytes.length}` });
    return { digest, repoDigest: `${repo.name}@${digest}`, ...stats };
  }
}

/** Make a blob present in `repo` without sending it: there already (HEAD) or mounted from `from`. */
async function placeBlob(repo: Repository, digest: Digest, from: string | undefined, progress: Progress): Promise<'present' | 'mounted' | undefined> {
  const id = shortId(digest);
  if ((await repo.blobSize(digest)) !== undefined) {
    progress({ type: 'layer', id, status: 'Layer already exists' });
    return 'present';
  }
  if (from && (await repo.mount(digest, from))) {
    progress({ type: 'layer', id, status: 'Mounted', from });
    return 'mounted';
  }
  return undefined;
}

async function ensureConfig(repo: Repository, digest: Digest, raw: Buffer, progress: Progress): Promise<void> {
  if ((await repo.blobSize(digest)) !== undefined) return;
  await repo.upload(async () => (async function* () {
    yield raw;
  })(), digest, { size: raw.length });
  progress({ type: 'layer', id: shortId(digest), status: 'Pushed' });
}
