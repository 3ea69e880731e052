import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { StrataError } from '@strata/errors';
import {
  Hasher, MediaType, isIndexMediaType, ociLayerMediaType, parseIndex, parseManifest, sha256, shortId,
  type Descriptor, type Digest, type Reference,
} from '@strata/oci';
import type { Image } from '@strata/image';
import { convertedConfig, dockerManifestToOci } from './oci-convert';
import { openOciDir, type OciDir } from './oci-dir';
import { selectPlatform, type PlatformSpec } from './platform';
import type { FetchedManifest, Registries, Repository } from './registry';
import { DEFAULT_PLATFORM, parallel, referenceOf } from './resolve';
import type { Progress } from './types';

/** One end of a copy between non-store transports. */
export type CopyEnd =
  | { kind: 'docker'; reference: Reference; registries: Registries }
  | { kind: 'oci'; dir: string; ref?: string };

export interface CopyOptions {
  src: CopyEnd;
  dest: CopyEnd;
  /** Copy the whole index (digest kept) instead of one platform's image. */
  allPlatforms?: boolean;
  platform?: PlatformSpec;
  jobs?: number;
  progress?: Progress;
}

export interface CopyResult {
  /** Digest of the top manifest written. */
  digest: Digest;
  blobs: number;
  copiedBytes: number;
  mounted: number;
  skipped: number;
}

interface Source {
  top(): Promise<FetchedManifest>;
  manifest(digest: Digest): Promise<FetchedManifest>;
  open(d: Descriptor): Promise<AsyncIterable<Uint8Array>>;
  repo?: Repository;
}

interface Dest {
  has(d: Descriptor): Promise<boolean>;
  mount?(d: Descriptor, from: Repository): Promise<boolean>;
  put(d: Descriptor, src: AsyncIterable<Uint8Array>): Promise<void>;
  putManifest(m: FetchedManifest, top: boolean): Promise<void>;
  done(): Promise<void>;
}

function sourceOf(end: CopyEnd): Source {
  if (end.kind === 'docker') {
    const repo = end.registries.repository(end.reference.domain, end.reference.path);
    return {
      repo,
      top: () => repo.manifest(referenceOf(end.reference)),
      manifest: (digest) => repo.manifest(digest),
      open: async (d) => repo.blob(d.digest, { size: d.size }),
    };
  }
  let dir: Promise<OciDir> | undefined;
  const get = () => (dir ??= openOciDir(end.dir, { create: false }));
  return {
    top: async () => (await get()).top(end.ref),
    manifest: async (digest) => (await get()).manifest(digest),
    open: async (d) => (await get()).open(d),
  };
}

async function destOf(end: CopyEnd, srcRef: Reference | undefined): Promise<Dest> {
  if (end.kind === 'docker') {
    const repo = end.registries.repository(end.reference.domain, end.reference.path);
    const ref = end.reference.tag ?? end.reference.digest ?? srcRef?.tag ?? 'latest';
    return {
      has: async (d) => (await repo.blobSize(d.digest)) !== undefined,
      mount: async (d, from) => from.domain === repo.domain && from.name !== repo.name && repo.mount(d.digest, from.path),
      put: async (d, src) => {
        await repo.upload(async () => src, d.digest, { size: d.size });
      },
      putManifest: async (m, top) => {
        await repo.putManifest(top ? ref : m.digest, m.bytes, m.mediaType);
      },
      done: async () => undefined,
    };
  }
  const dir = await openOciDir(end.dir, { create: true });
  let topDesc: { digest: Digest; size: number; mediaType: string } | undefined;
  return {
    has: (d) => dir.has(d),
    put: (d, src) => dir.put(d, src),
    putManifest: async (m, top) => {
      await dir.putBytes(m.bytes);
      if (top) topDesc = { digest: m.digest, size: m.bytes.length, mediaType: m.mediaType };
    },
    done: async () => {
      if (topDesc) await dir.name(topDesc, end.ref);
      rmSync(join(end.dir, 'tmp'), { recursive: true, force: true });
    },
  };
}

/** Verify a stream against its descriptor while passing it on (a bad blob never lands). */
function verified(d: Descriptor, src: AsyncIterable<Uint8Array>, what: string, count: (n: number) => void): AsyncIterable<Uint8Array> {
  return (async function* () {
    const h = new Hasher();
    for await (const c of src) {
      h.update(c);
      count(c.length);
      if (h.size > d.size) throw new StrataError('SIZE_MISMATCH', `${what}: blob ${d.digest} is larger than its ${d.size} bytes`);
      yield c;
    }
    if (h.size !== d.size) throw new StrataError('SIZE_MISMATCH', `${what}: blob ${d.digest} is ${h.size} bytes, its descriptor says ${d.size}`);
    const got = h.digest();
    if (got !== d.digest) throw new StrataError('DIGEST_MISMATCH', `${what}: blob ${d.digest} hashes to ${got}`);
  })();
}

/**
 * A stored image (uncompressed layers) into an OCI layout: each layer compressed as a push does
 * (gzip level 1 by default: the same tar gives the same digest), config kept byte for byte, an OCI
 * manifest named `ref` in index.json.
 */
export async function copyImageToOciDir(
  image: Image,
  dir: string,
  ref: string | undefined,
  opts: { compress?: 'gzip' | 'zstd'; level?: number; checkpoint?: (point: string) => void | Promise<void> } = {},
): Promise<{ digest: Digest }> {
  const { compress } = await import('@strata/layer');
  const oci = await openOciDir(dir, { create: true, checkpoint: opts.checkpoint });
  const encoding = opts.compress ?? 'gzip';
  const level = opts.level ?? (encoding === 'gzip' ? 1 : 3);
  const layers: Descriptor[] = [];
  for (const layer of await image.layers()) {
    const { digest, size } = await oci.putStream(compress(await layer.uncompressed(), encoding, { level }));
    layers.push({ mediaType: ociLayerMediaType(encoding), digest, size });
  }
  const rawConfig = Buffer.from(await image.rawConfig());
  const configDigest = await oci.putBytes(rawConfig);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.OCI_MANIFEST,
    config: { mediaType: MediaType.OCI_CONFIG, digest: configDigest, size: rawConfig.length },
    layers,
  }));
  const digest = await oci.putBytes(manifest);
  await oci.name({ digest, size: manifest.length, mediaType: MediaType.OCI_MANIFEST }, ref);
  rmSync(join(dir, 'tmp'), { recursive: true, force: true });
  return { digest };
}

/**
 * Copy an image between two non-store ends (registry ↔ registry, registry ↔ OCI layout) blob by
 * blob, without decompressing or recompressing: digests are kept (a Docker manifest written into
 * an OCI layout is converted as skopeo does). Blobs the destination has are skipped, blobs in
 * another repository of the same registry are mounted, the rest stream through, verified.
 */
export async function copyImage(opts: CopyOptions): Promise<CopyResult> {
  const progress = opts.progress ?? (() => undefined);
  const src = sourceOf(opts.src);
  const srcRef = opts.src.kind === 'docker' ? opts.src.reference : undefined;
  const dest = await destOf(opts.dest, srcRef);
  const toOci = opts.dest.kind === 'oci';
  const result: CopyResult = { digest: '' as Digest, blobs: 0, copiedBytes: 0, mounted: 0, skipped: 0 };
  const what = opts.src.kind === 'docker' ? `${opts.src.reference.domain}/${opts.src.reference.path}` : opts.src.dir;

  const copyBlob = async (d: Descriptor) => {
    result.blobs++;
    const id = shortId(d.digest);
    if (await dest.has(d)) {
      result.skipped++;
      progress({ type: 'layer', id, status: 'Skipped' });
      return;
    }
    if (src.repo && dest.mount && (await dest.mount(d, src.repo))) {
      result.mounted++;
      progress({ type: 'layer', id, status: 'Mounted', from: src.repo.name });
      return;
    }
    let n = 0;
    progress({ type: 'layer', id, status: 'Copying', current: 0, total: d.size });
    await dest.put(d, verified(d, await src.open(d), what, (k) => {
      n += k;
      result.copiedBytes += k;
      progress({ type: 'layer', id, status: 'Copying', current: n, total: d.size });
    }));
    progress({ type: 'layer', id, status: 'Copied' });
  };

  const copyManifest = async (m: FetchedManifest, top: boolean): Promise<FetchedManifest> => {
    const doc = parseManifest(m.bytes);
    if (toOci && m.mediaType === MediaType.DOCKER_MANIFEST) {
      // into an OCI layout a Docker image is converted, config included, as skopeo does
      const chunks: Buffer[] = [];
      for await (const c of verified(doc.config, await src.open(doc.config), what, () => undefined)) chunks.push(Buffer.from(c));
      const config = convertedConfig(Buffer.concat(chunks));
      const cd: Descriptor = { mediaType: MediaType.OCI_CONFIG, digest: config.digest, size: config.size };
      if (!(await dest.has(cd))) await dest.put(cd, (async function* () { yield config.bytes; })());
      await parallel(doc.layers, opts.jobs ?? 4, copyBlob);
      const bytes = dockerManifestToOci(m.bytes, config);
      const out: FetchedManifest = { bytes, mediaType: MediaType.OCI_MANIFEST, digest: sha256(bytes) };
      await dest.putManifest(out, top);
      return out;
    }
    await parallel([doc.config, ...doc.layers], opts.jobs ?? 4, copyBlob);
    await dest.putManifest(m, top);
    return m;
  };

  const top = await src.top();
  if (isIndexMediaType(top.mediaType)) {
    const index = parseIndex(top.bytes);
    if (opts.allPlatforms) {
      if (toOci && top.mediaType === MediaType.DOCKER_MANIFEST_LIST) {
        throw new StrataError('UNSUPPORTED', `${what}: a Docker manifest list copied whole into an OCI layout would change its digest; copy one platform or to a registry`);
      }
      for (const d of index.manifests) {
        const child = await src.manifest(d.digest);
        if (isIndexMediaType(child.mediaType)) throw new StrataError('UNSUPPORTED', `${what}: nested indexes are not supported`);
        await copyManifest(child, false);
      }
      await dest.putManifest(top, true);
      result.digest = top.digest;
    } else {
      const d = selectPlatform(index, opts.platform ?? DEFAULT_PLATFORM, `${what}@${top.digest}`);
      result.digest = (await copyManifest(await src.manifest(d.digest), true)).digest;
    }
  } else {
    result.digest = (await copyManifest(top, true)).digest;
  }
  await dest.done();
  return result;
}
