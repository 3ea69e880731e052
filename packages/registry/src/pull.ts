import { StrataError } from '@strata/errors';
import {
  formatReference, parseImageConfig, parseIndex, parseManifest, repositoryName, shortId, withDefaultTag,
  type Descriptor, type Digest, type Reference,
} from '@strata/oci';
import type { LoadedImage, StagedBlob } from '@strata/image';
import type { Registries } from './registry';
import { DEFAULT_PLATFORM, parallel, readSmallBlob, resolveImage, referenceOf } from './resolve';
import { formatPlatform, type PlatformSpec } from './platform';
import type { DistributionRecords, LocalStore, Progress } from './types';

export interface PullOptions {
  registries: Registries;
  reference: Reference;
  /** Store root (staging goes to ROOT/tmp so that committing is a rename). */
  root: string;
  openStore: () => Promise<LocalStore>;
  distribution: DistributionRecords;
  platform?: PlatformSpec;
  /** Every platform of an index (each stored; the tag names `platform`'s). */
  allPlatforms?: boolean;
  /** Layers downloaded at once (default 3). */
  jobs?: number;
  progress?: Progress;
  /** Crash tests stop here (see @strata/image's commitImages). */
  checkpoint?: (point: string) => void | Promise<void>;
}

export interface PullResult {
  /** Image ID (config digest), as Docker's. */
  id: Digest;
  /** The digest the reference resolved to (an index's, for multi-platform images). */
  digest: Digest;
  /** `domain/path@digest` */
  repoDigest: string;
  tags: string[];
  /** Layers downloaded (the rest were in the store already). */
  downloaded: number;
  layers: number;
}

/**
 * Pull an image into the store. Manifest and config are verified against their digests; every
 * layer is hashed while it streams (compressed bytes against the manifest, the decompressed tar
 * against the config's diff_id) into a private staging directory, resuming a cut download with
 * a Range request. Only when every layer has been verified do layers move into the store and
 * the tag appear; any failure leaves the store as it was. Where each layer came from is
 * recorded, so a later push can skip or mount it.
 */
export async function pullImage(opts: PullOptions): Promise<PullResult> {
  const progress = opts.progress ?? (() => undefined);
  const ref = opts.reference.digest ? opts.reference : withDefaultTag(opts.reference);
  const repo = opts.registries.repository(ref.domain, ref.path);
  const platform = opts.platform ?? DEFAULT_PLATFORM;
  const resolved = await resolveImage(repo, ref, platform);
  const topDigest = resolved.top.digest;
  const tag = ref.tag !== undefined && !ref.digest ? formatReference({ domain: ref.domain, path: ref.path, tag: ref.tag }) : undefined;
  progress({ type: 'status', message: `${ref.tag ?? ref.digest}: Pulling from ${ref.domain === 'docker.io' ? ref.path : repositoryName(ref)}` });

  const targets: Array<{ manifest: typeof resolved.manifest; tag?: string }> = [{ manifest: resolved.manifest, tag }];
  if (opts.allPlatforms && resolved.index) {
    for (const d of parseIndex(resolved.top.bytes).manifests) {
      if (d.digest === resolved.manifest.digest || !d.platform || d.platform.os === 'unknown') continue;
      targets.push({ manifest: await repo.manifest(d.digest) });
    }
  }

  const store = await opts.openStore();
  // loaded here: inspect, tags and copy need none of the store-side modules (nor their native codecs)
  const { commitImages, createStaging } = await import('@strata/image');
  const staging = createStaging(opts.root, 'pull', opts.checkpoint);
  let ok = false;
  try {
    const images: LoadedImage[] = [];
    const sources: Array<{ manifest: typeof resolved.manifest; layers: Descriptor[]; diffIds: Digest[] }> = [];
    let downloaded = 0;
    for (const t of targets) {
      const manifest = parseManifest(t.manifest.bytes);
      const rawConfig = await readSmallBlob(repo, manifest.config);
      const config = parseImageConfig(rawConfig);
      const diffIds = config.rootfs.diff_ids;
      if (diffIds.length !== manifest.layers.length) {
        throw new StrataError('INVALID_MANIFEST', `${repo.name}@${t.manifest.digest}: ${manifest.layers.length} layers but the config lists ${diffIds.length} diff_ids`);
      }
      const staged = await parallel(manifest.layers, opts.jobs ?? 3, async (d, i): Promise<StagedBlob> => {
        const id = shortId(d.digest);
        const diffId = diffIds[i];
        // Held before it is looked for: a GC between the look and the hold would take it.
        store.blobs.hold([diffId]);
        const have = await store.blobs.size(diffId);
        if (have !== undefined) {
          progress({ type: 'layer', id, status: 'Already exists' });
          return { rawDigest: d.digest, rawSize: d.size, encoding: 'none', diffId, size: have, file: '' };
        }
        progress({ type: 'layer', id, status: 'Downloading', current: 0, total: d.size });
        let got = 0;
        const blob = await staging.stage(
          coalesce(
            repo.blob(d.digest, {
              size: d.size,
              onBytes: (n) => {
                got += n;
                progress({ type: 'layer', id, status: 'Downloading', current: got, total: d.size });
              },
            }),
          ),
          `${repo.name}@${d.digest}`,
        );
        if (blob.rawDigest !== d.digest) throw new StrataError('DIGEST_MISMATCH', `layer ${repo.name}@${d.digest}: content hashes to ${blob.rawDigest}`);
        if (blob.rawSize !== d.size) throw new StrataError('SIZE_MISMATCH', `layer ${repo.name}@${d.digest}: ${blob.rawSize} bytes, its descriptor says ${d.size}`);
        if (blob.diffId !== diffId) throw new StrataError('DIGEST_MISMATCH', `layer ${repo.name}@${d.digest}: its tar hashes to ${blob.diffId}, the config says ${diffId}`);
        downloaded++;
        progress({ type: 'layer', id, status: 'Pull complete' });
        return blob;
      });
      images.push({ rawConfig, config, configDigest: manifest.config.digest, layers: staged, tags: t.tag ? [t.tag] : [], annotations: manifest.annotations });
      sources.push({ manifest: t.manifest, layers: manifest.layers, diffIds });
    }
    const stored = await commitImages({ openStore: async () => store, checkpoint: opts.checkpoint }, staging, images);
    ok = true;
    // Distribution metadata: a cache for later pushes, written once the images are in. One file
    // a layer and an image, each read, changed and written atomically: the files are written
    // side by side (their fsyncs overlap), the records of one file one after another.
    const byFile = new Map<string, Array<() => Promise<void>>>();
    const add = (file: string, write: () => Promise<void>) => {
      const list = byFile.get(file);
      if (list) list.push(write);
      else byFile.set(file, [write]);
    };
    for (const [i, s] of sources.entries()) {
      for (const [j, d] of s.layers.entries()) {
        add(`layer ${s.diffIds[j]}`, () => opts.distribution.addLayerSource(s.diffIds[j], { digest: d.digest, size: d.size, mediaType: d.mediaType, repository: repo.name }));
      }
      add(`image ${stored[i].id}`, () =>
        opts.distribution.addImageSource(stored[i].id, {
          repository: repo.name,
          digest: s.manifest.digest,
          ...(resolved.index ? { indexDigest: topDigest } : {}),
          mediaType: s.manifest.mediaType,
          manifest: s.manifest.bytes.toString('utf8'),
        }),
      );
    }
    await Promise.all(
      [...byFile.values()].map(async (writes) => {
        for (const w of writes) await w();
      }),
    );
    progress({ type: 'status', message: `Digest: ${topDigest}` });
    progress({
      type: 'status',
      message: tag ? `Status: ${downloaded ? 'Downloaded newer image' : 'Image is up to date'} for ${ref.domain === 'docker.io' ? ref.path.replace(/^library\//, '') : repositoryName(ref)}:${ref.tag}` : `Status: pulled ${formatPlatform(platform)}`,
    });
    return {
      id: stored[0].id,
      digest: topDigest,
      repoDigest: `${repo.name}@${topDigest}`,
      tags: stored[0].tags,
      downloaded,
      layers: images[0].layers.length,
    };
  } finally {
    if (ok) staging.finish();
    else staging.discard();
  }
}

export { referenceOf };

const COALESCE = 1 << 20;

/**
 * Sockets deliver 16–64 KiB at a time; the decompressor and the hashes cost per call, so chunks
 * are joined to ~1 MiB before they go on (one copy, far cheaper than a zlib round trip each).
 */
async function* coalesce(src: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  let parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of src) {
    parts.push(c);
    n += c.length;
    if (n >= COALESCE) {
      yield parts.length === 1 ? parts[0] : Buffer.concat(parts, n);
      parts = [];
      n = 0;
    }
  }
  if (n > 0) yield parts.length === 1 ? parts[0] : Buffer.concat(parts, n);
}
