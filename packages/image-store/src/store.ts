import { resolve as absolutePath } from 'node:path';
import { openBlobStore, type BlobStore } from '@strata/cas';
import { StrataError, isStrataError } from '@strata/errors';
import type { Image } from '@strata/image';
import {
  MediaType, isIndexMediaType, layerCompression, parseIndex, parseReference, formatReference, withDefaultTag, normalizeReference,
  sha256, type Descriptor, type Digest, type ImageConfig, type Manifest,
} from '@strata/oci';
import { ANNOTATION_LAST_TAG_TIME, ANNOTATION_SIZE, readIndex, refName, setTags, writeIndex } from './index-file';
import { layerContentSize } from './content-size';
import { storeLock } from './lock';
import { readStoredImage } from './stored-image';

export interface StoredImage {
  /** Config digest (image ID, as Docker). */
  id: Digest;
  manifestDigest: Digest;
  /** Normalised refs: docker.io/library/busybox:latest */
  tags: string[];
  /** config.created */
  created?: string;
  /** Docker's Size: the bytes of the regular files in its layers (not the tars' length). */
  size: number;
  image: Image;
  /** When a tag was last added (Docker's Metadata.LastTagTime); undefined if never tagged here. */
  lastTagTime?: string;
  /** Parsed config and manifest (read once; no blob re-hashing). */
  config: ImageConfig;
  manifest: Manifest;
  /** The index.json descriptor of the manifest (media type, size, platform). */
  descriptor: Descriptor;
}

export interface Store {
  readonly root: string;
  readonly blobs: BlobStore;
  /** Store an image (copying its blobs when missing, layers uncompressed), then update index.json under the lock. */
  putImage(image: Image, opts?: { tags?: string[] }): Promise<StoredImage>;
  /** A tag, `name@sha256:…`, a full image ID, a manifest digest, or an ID prefix (≥ 4 hex). IMAGE_NOT_FOUND otherwise. */
  image(ref: string): Promise<StoredImage>;
  /** Every image, newest first (by config.created). */
  images(): Promise<StoredImage[]>;
  tag(src: string, dst: string): Promise<void>;
  /** Remove one tag; the image stays (dangling when it was the last tag). */
  untag(ref: string): Promise<void>;
  /** Lock held across `fn` (index.json mutations, GC). Re-entrant inside one process. */
  withLock<T>(fn: () => Promise<T>): Promise<T>;
  /** Break the lock when its holder is dead. */
  breakStaleLock(): Promise<boolean>;
  /**
   * Resolve `ref` and protect the image's blobs from GC for the rest of this process (a build
   * reading its base image, a container being created): its blobs are leased, then checked to
   * be still there (IMAGE_NOT_FOUND if a concurrent `rm` + GC won the race).
   */
  useImage(ref: string): Promise<StoredImage>;
  /**
   * A named point of a write, for crash tests (`openStore`'s `checkpoint`; nothing otherwise):
   * the writers that work on this store call it between their steps.
   */
  checkpoint(point: string): Promise<void>;
}

export interface OpenStoreOptions {
  /**
   * Crash tests: called, and may block forever, at each named point of a write — the blob
   * store's (`blob-synced`, `blob-stored`, `gc-aside`), the lock's (`lock-taken`), the index's
   * (`index-written`) and those writers name through `Store.checkpoint`.
   */
  checkpoint?: (point: string) => void | Promise<void>;
}

/** Minimum length of an ID prefix, so a short typo does not pick an image. */
export const MIN_ID_PREFIX = 4;

const HOST_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', ia32: '386' };

/** Open (creating when missing) the store at `root`. */
export async function openStore(rootDir: string, opts: OpenStoreOptions = {}): Promise<Store> {
  // Absolute: the store's paths reach child processes (the OCI runtime) that run elsewhere.
  const root = absolutePath(rootDir);
  const checkpoint = async (point: string) => {
    await opts.checkpoint?.(point);
  };
  const blobs = await openBlobStore(root, { checkpoint: opts.checkpoint });
  const lock = storeLock(root, { checkpoint: opts.checkpoint });
  // Manifests and configs are immutable: parsed views are cached by manifest digest.
  const cache = new Map<Digest, Awaited<ReturnType<typeof readStoredImage>>>();
  const layerSizes = new Map<Digest, number>();

  /** Docker's size of a layer (its regular files' bytes); the blob size when it cannot be read as a local tar. */
  async function dockerLayerSize(l: Descriptor): Promise<number> {
    let n = layerSizes.get(l.digest);
    if (n === undefined) {
      n = layerCompression(l.mediaType) === 'none' && (await blobs.has(l.digest)) ? (layerContentSize(blobs.path(l.digest)) ?? l.size) : l.size;
      layerSizes.set(l.digest, n);
    }
    return n;
  }

  async function imageSize(d: Descriptor, manifest: Manifest): Promise<number> {
    const recorded = Number(d.annotations?.[ANNOTATION_SIZE]);
    if (Number.isSafeInteger(recorded) && recorded >= 0) return recorded;
    let total = 0;
    for (const l of manifest.layers) total += await dockerLayerSize(l);
    return total;
  }

  async function view(digest: Digest) {
    let v = cache.get(digest);
    if (!v) {
      v = await readStoredImage(blobs, digest);
      cache.set(digest, v);
    }
    return v;
  }

  /** A descriptor naming an index (multi-platform, from other tools): the host platform's manifest. */
  async function platformManifest(d: Descriptor): Promise<Descriptor> {
    if (!isIndexMediaType(d.mediaType)) return d;
    const idx = parseIndex(await blobs.read(d.digest));
    const arch = HOST_ARCH[process.arch] ?? process.arch;
    const pick = idx.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === arch) ?? idx.manifests[0];
    if (!pick) throw new StrataError('STORE_CORRUPT', `index ${d.digest} lists no manifest`);
    return platformManifest(pick);
  }

  /**
   * Readers take no lock (index.json is replaced atomically), so a concurrent rm + GC may delete a
   * manifest between reading the index and the manifest: read again when that happens.
   */
  async function images(): Promise<StoredImage[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await readImages();
      } catch (err) {
        if (!isStrataError(err, 'BLOB_NOT_FOUND')) throw err;
        if (attempt >= 3) throw new StrataError('STORE_CORRUPT', `an image in index.json is incomplete: ${err.message}`, { hint: 'run `strata store check`', cause: err });
      }
    }
  }

  async function readImages(): Promise<StoredImage[]> {
    const index = await readIndex(root);
    const groups = new Map<Digest, { d: Descriptor; tags: string[] }>();
    for (const d of index.manifests) {
      let g = groups.get(d.digest);
      if (!g) groups.set(d.digest, (g = { d, tags: [] }));
      const name = refName(d);
      if (name !== undefined && !g.tags.includes(name)) g.tags.push(name);
    }
    const out: StoredImage[] = [];
    for (const { d, tags } of groups.values()) {
      const md = await platformManifest(d);
      const v = await view(md.digest);
      out.push({
        id: v.manifest.config.digest,
        manifestDigest: d.digest,
        tags,
        created: v.config.created,
        size: await imageSize(d, v.manifest),
        lastTagTime: d.annotations?.[ANNOTATION_LAST_TAG_TIME],
        image: v.image,
        config: v.config,
        manifest: v.manifest,
        descriptor: d,
      });
    }
    const time = new Map(out.map((i) => [i, i.created ? Date.parse(i.created) || 0 : 0]));
    return out.sort((a, b) => time.get(b)! - time.get(a)!);
  }

  async function image(ref: string): Promise<StoredImage> {
    const all = await images();
    const found = resolve(all, ref);
    if (!found) throw new StrataError('IMAGE_NOT_FOUND', `no such image: ${ref}`);
    return found;
  }

  /** Copy the blobs an image needs into the store (layers uncompressed); returns the manifest to index. */
  async function storeBlobs(img: Image): Promise<{ descriptor: Descriptor; digests: Digest[] }> {
    const srcManifest = await img.manifest();
    const rawConfig = Buffer.from(await img.rawConfig());
    const configDigest = sha256(rawConfig);
    const docker = srcManifest.mediaType === MediaType.DOCKER_MANIFEST;
    const layers: Descriptor[] = [];
    let rewritten = false;
    for (const layer of await img.layers()) {
      const mt = await layer.mediaType();
      const compression = layerCompression(mt);
      if (compression === undefined) throw new StrataError('UNSUPPORTED', `layer media type ${mt} is not supported`);
      const diffId = await layer.diffId();
      blobs.hold([diffId]);
      // Docker's size of the layer, when its writer counted it: its headers need not be read again
      const counted = await layer.contentSize?.();
      if (counted !== undefined && !layerSizes.has(diffId)) layerSizes.set(diffId, counted);
      let size: number;
      if (compression === 'none') {
        size = await layer.size();
        if ((await blobs.size(diffId)) !== size) size = (await blobs.put(await layer.uncompressed(), { expected: diffId, expectedSize: size })).size;
        layers.push({ mediaType: mt, digest: diffId, size });
      } else {
        rewritten = true;
        const have = await blobs.size(diffId);
        size = have ?? (await blobs.put(await layer.uncompressed(), { expected: diffId })).size;
        layers.push({ mediaType: docker ? MediaType.DOCKER_LAYER : MediaType.OCI_LAYER, digest: diffId, size });
      }
    }
    const configMediaType = srcManifest.config?.mediaType ?? (docker ? MediaType.DOCKER_CONFIG : MediaType.OCI_CONFIG);
    await blobs.putBytes(rawConfig, { expected: configDigest });
    let rawManifest: Buffer;
    if (!rewritten && srcManifest.config.digest === configDigest) {
      rawManifest = Buffer.from(await img.rawManifest());
    } else {
      const m: Manifest = {
        schemaVersion: 2,
        mediaType: docker ? MediaType.DOCKER_MANIFEST : MediaType.OCI_MANIFEST,
        config: { mediaType: configMediaType, digest: configDigest, size: rawConfig.length },
        layers,
        ...(srcManifest.annotations ? { annotations: srcManifest.annotations } : {}),
      };
      rawManifest = Buffer.from(JSON.stringify(m));
    }
    const { digest, size } = await blobs.putBytes(rawManifest);
    const mediaType = JSON.parse(rawManifest.toString('utf8')).mediaType ?? MediaType.OCI_MANIFEST;
    let dockerSize = 0;
    for (const l of layers) dockerSize += await dockerLayerSize(l);
    // Recorded once here so `image ls` never has to read layers.
    const annotations = { [ANNOTATION_SIZE]: String(dockerSize) };
    return { descriptor: { mediaType, digest, size, annotations }, digests: [digest, configDigest, ...layers.map((l) => l.digest)] };
  }

  async function putImage(img: Image, opts: { tags?: string[] } = {}): Promise<StoredImage> {
    const tags = (opts.tags ?? []).map(normalizeTag);
    const { descriptor, digests } = await storeBlobs(img);
    await lock.withLock(async () => {
      const index = await readIndex(root);
      const known = index.manifests.some((d) => d.digest === descriptor.digest);
      if (tags.length === 0 && known) return;
      await writeIndex(root, setTags(index, { ensure: [descriptor], add: tags.map((ref) => ({ manifest: descriptor, ref })) }));
      await checkpoint('index-written');
    });
    blobs.release(digests);
    const stored = (await images()).find((i) => i.manifestDigest === descriptor.digest);
    if (!stored) throw new StrataError('CONFLICT', `image ${descriptor.digest} was removed while it was being stored`);
    return stored;
  }

  async function tag(src: string, dst: string): Promise<void> {
    const ref = normalizeTag(dst);
    await lock.withLock(async () => {
      const target = await image(src);
      const index = await readIndex(root);
      await writeIndex(root, setTags(index, { add: [{ manifest: target.descriptor, ref }] }));
      await checkpoint('index-written');
    });
  }

  async function untag(refStr: string): Promise<void> {
    const ref = normalizeTag(refStr);
    await lock.withLock(async () => {
      const index = await readIndex(root);
      if (!index.manifests.some((d) => refName(d) === ref)) throw new StrataError('IMAGE_NOT_FOUND', `no such image: ${refStr}`);
      await writeIndex(root, setTags(index, { remove: [ref] }));
      await checkpoint('index-written');
    });
  }

  async function useImage(ref: string): Promise<StoredImage> {
    const img = await image(ref);
    const digests = [img.descriptor.digest, img.manifestDigest, img.id, ...img.manifest.layers.map((l) => l.digest)];
    blobs.hold(digests);
    for (const d of digests) {
      if (!(await blobs.has(d))) throw new StrataError('IMAGE_NOT_FOUND', `image ${ref} was removed while it was being opened`);
    }
    return img;
  }

  return { root, blobs, putImage, image, images, tag, untag, withLock: lock.withLock, breakStaleLock: lock.breakStale, useImage, checkpoint };
}

/** A tag to write: normalised, default `:latest`, no digest. */
export function normalizeTag(ref: string): string {
  const r = parseReference(ref);
  if (r.digest) throw new StrataError('INVALID_REFERENCE', `invalid tag "${ref}": a tag cannot contain a digest`);
  return formatReference(withDefaultTag(r));
}

/** Resolve `ref` among `all` as Docker does: a reference first, then an ID (or manifest digest) or unique ID prefix. */
export function resolve(all: StoredImage[], ref: string): StoredImage | undefined {
  const s = ref.trim();
  const full = /^sha256:([a-f0-9]{64})$/.exec(s);
  if (full) return all.find((i) => i.id === s) ?? all.find((i) => i.manifestDigest === s);
  let parsed;
  try {
    parsed = parseReference(s);
  } catch {
    parsed = undefined;
  }
  if (parsed) {
    if (parsed.digest) {
      const name = `${parsed.domain}/${parsed.path}`;
      const byDigest = all.filter((i) => i.manifestDigest === parsed.digest);
      return byDigest.find((i) => i.tags.some((t) => t.startsWith(`${name}:`))) ?? byDigest[0];
    }
    const want = normalizeReference(s);
    const hit = all.find((i) => i.tags.includes(want));
    if (hit) return hit;
  }
  const prefix = /^(?:sha256:)?([a-f0-9]+)$/.exec(s)?.[1];
  if (!prefix || prefix.length < MIN_ID_PREFIX) return undefined;
  const ids = new Set(all.filter((i) => i.id.slice(7).startsWith(prefix)).map((i) => i.id));
  if (ids.size > 1) throw new StrataError('CONFLICT', `image ID prefix "${prefix}" is ambiguous (${ids.size} images match)`, { hint: 'give more characters of the ID' });
  if (ids.size === 1) {
    const id = [...ids][0];
    return all.find((i) => i.id === id && i.tags.length > 0) ?? all.find((i) => i.id === id);
  }
  return undefined;
}
