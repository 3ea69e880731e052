// `strata image inspect REF… [--format TEMPLATE]`: Docker's JSON array, or a Go template per image.
import { existsSync } from 'node:fs';
import { isStrataError } from '@strata/errors';
import { openDistribution, openStore, readIndex, refName, type Store } from '@strata/image-store';
import {
  compileTemplate,
  dockerInspect,
  goJson,
  inspectTemplateValue,
  layerEntries,
  layerUsage,
  renderInspect,
  type DockerImageInspect,
  type LayerUsage,
} from '@strata/inspect';
import type { TarEntry } from '@strata/tar';
import type { LayerSource } from '@strata/unionfs';
import type { Layer } from '@strata/layer';
import { familiarReference, isManifestMediaType, MediaType, normalizeReference, parseManifest, parseReference, sha256, type Digest } from '@strata/oci';
import type { CommandContext, CommandResult } from '../runner';

/** What inspect/history/efficiency need of a stored image. */
export interface InspectTarget {
  id: Digest;
  /** Normalised tags (`docker.io/library/busybox:latest`). */
  tags: string[];
  config: Record<string, unknown>;
  lastTagTime?: string;
  /** Docker's image size as the store recorded it (saves reading the layers for `inspect`). */
  size?: number;
  /** Bottom to top. */
  layers: Array<{ diffId: Digest; headers: () => Promise<TarEntry[]>; source: LayerSource }>;
}

/**
 * Resolve REF. A plain tag is looked up in index.json directly and only that image's manifest and
 * config are read (the store's `image()` reads every image, which dominates with many images);
 * anything else (IDs, prefixes, digests, indexes, compressed layers) goes through `store.image`.
 */
export async function findImage(store: Store, ref: string): Promise<InspectTarget> {
  const fast = await byTag(store, ref).catch(() => undefined);
  if (fast) return fast;
  const img = await store.image(ref);
  const layers = await img.image.layers();
  return {
    id: img.id,
    tags: img.tags,
    config: JSON.parse(Buffer.from(await img.image.rawConfig()).toString('utf8')) as Record<string, unknown>,
    lastTagTime: img.lastTagTime,
    // No `size` here: for compressed layers the store falls back to blob sizes; count them instead.
    layers: await Promise.all(
      layers.map(async (l) => {
        const source = await sourceOf(store, l);
        return { diffId: source.diffId!, headers: () => layerEntries(source), source };
      }),
    ),
  };
}

/** image-store's ANNOTATION_LAST_TAG_TIME and ANNOTATION_SIZE (not exported from its index). */
const LAST_TAG_TIME = 'dev.strata.image.last-tag-time';
const SIZE = 'dev.strata.image.size';

const UNCOMPRESSED = new Set<string>([MediaType.OCI_LAYER, MediaType.DOCKER_LAYER, MediaType.OCI_LAYER_ND]);

/** index.json read once per command (`image inspect` of 100 refs reads it once, not 100 times). */
const indexes = new WeakMap<Store, ReturnType<typeof readIndex>>();
function indexOf(store: Store): ReturnType<typeof readIndex> {
  let p = indexes.get(store);
  if (!p) indexes.set(store, (p = readIndex(store.root)));
  return p;
}

async function byTag(store: Store, ref: string): Promise<InspectTarget | undefined> {
  const parsed = parseReference(ref);
  if (parsed.digest) return undefined;
  const want = normalizeReference(ref);
  const index = await indexOf(store);
  const hits = index.manifests.filter((d) => refName(d) === want);
  if (hits.length !== 1 || !isManifestMediaType(hits[0].mediaType)) return undefined;
  const digest = hits[0].digest;
  const rawManifest = await store.blobs.read(digest);
  if (sha256(rawManifest) !== digest) return undefined;
  const manifest = parseManifest(rawManifest);
  const rawConfig = await store.blobs.read(manifest.config.digest);
  if (sha256(rawConfig) !== manifest.config.digest) return undefined;
  const config = JSON.parse(rawConfig.toString('utf8')) as Record<string, unknown>;
  const diffIds = ((config.rootfs ?? {}) as { diff_ids?: Digest[] }).diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) return undefined;
  const layers: InspectTarget['layers'] = [];
  for (const [i, l] of manifest.layers.entries()) {
    // Local layers are kept uncompressed under their diffID; others take the general path.
    if (!UNCOMPRESSED.has(l.mediaType) || l.digest !== diffIds[i]) return undefined;
    const path = store.blobs.path(l.digest);
    if (!existsSync(path)) return undefined;
    const source: LayerSource = { path, diffId: l.digest };
    layers.push({ diffId: l.digest, headers: () => layerEntries(source), source });
  }
  const mine = index.manifests.filter((d) => d.digest === digest);
  const tags = [...new Set(mine.map(refName).filter((t): t is string => t !== undefined))];
  // As the store reads it: its tag-time annotation on the image's first descriptor.
  const lastTagTime = mine[0].annotations?.[LAST_TAG_TIME];
  const recorded = Number(mine[0].annotations?.[SIZE]);
  const size = Number.isSafeInteger(recorded) && recorded >= 0 ? recorded : undefined;
  return { id: manifest.config.digest, tags, config, lastTagTime, size, layers };
}

/** Where a stored layer's tar is: the blob itself when it is stored uncompressed, else a decompressing stream. */
export async function sourceOf(store: Store, layer: Layer): Promise<LayerSource> {
  const [digest, diffId] = await Promise.all([layer.digest(), layer.diffId()]);
  const path = digest === diffId ? store.blobs.path(digest) : undefined;
  return path && existsSync(path) ? { path, diffId } : { open: () => layer.uncompressed(), diffId };
}

/** Images share base layers: count each diffID once per process. */
const usageCache = new Map<string, LayerUsage>();

/** Docker-counted usage of each layer (bottom to top). */
export async function layerUsages(target: InspectTarget): Promise<LayerUsage[]> {
  const out: LayerUsage[] = [];
  for (const l of target.layers) {
    let usage = usageCache.get(l.diffId);
    if (!usage) {
      usage = layerUsage(await l.headers());
      usageCache.set(l.diffId, usage);
    }
    out.push(usage);
  }
  return out;
}

export async function layerSizes(target: InspectTarget): Promise<number[]> {
  return (await layerUsages(target)).map((u) => u.size);
}

export interface ImageInspectOptions {
  /** A Go template; `json`, `table` or undefined print the JSON array. */
  format?: string;
}

/** Docker's RepoDigests: `name@digest` of each registry the image was pulled from or pushed to (the index's digest for multi-platform pulls). */
function repoDigests(store: Store, id: Digest): string[] {
  const seen = new Set<string>();
  for (const s of openDistribution(store.root).imageSources(id)) {
    try {
      seen.add(familiarReference({ ...parseReference(s.repository), digest: s.indexDigest ?? s.digest }));
    } catch {
      // a record naming no valid repository: not shown
    }
  }
  return [...seen].sort();
}

/** The inspect object of one stored image. */
export async function inspectStoredImage(store: Store, ref: string): Promise<DockerImageInspect> {
  const img = await findImage(store, ref);
  // The store counts Docker's size the same way (regular-file bytes) when it records an image.
  const size = img.size ?? (await layerSizes(img)).reduce((a, b) => a + b, 0);
  const tags = [...img.tags].sort().map((t) => familiarReference(parseReference(t)));
  return dockerInspect({
    id: img.id,
    config: img.config,
    repoTags: tags,
    repoDigests: repoDigests(store, img.id),
    size,
    lastTagTime: img.lastTagTime,
  });
}

export async function runImageInspect(ctx: CommandContext, refs: string[], opts: ImageInspectOptions): Promise<CommandResult> {
  // Parse the template before touching the store: a bad template is a usage error.
  const template = opts.format && opts.format !== 'json' && opts.format !== 'table' ? compileTemplate(opts.format) : undefined;
  const store = await openStore(ctx.globals.root);
  const found: DockerImageInspect[] = [];
  const missing: string[] = [];
  for (const ref of refs) {
    try {
      found.push(await inspectStoredImage(store, ref));
    } catch (err) {
      if (!isStrataError(err, 'IMAGE_NOT_FOUND') && !isStrataError(err, 'INVALID_REFERENCE')) throw err;
      missing.push(ref);
    }
  }
  let text: string;
  if (template) {
    text = renderInspect(template, found.map((v) => ({ typed: inspectTemplateValue(v), raw: v })));
  } else {
    // Docker indents the API's JSON (Go-escaped) with four spaces; an empty result is "[]".
    text = found.length ? `${goJson(found, 4)}\n` : '[]\n';
  }
  if (missing.length) {
    // Like docker: print what was found, then one error line per missing image.
    await write(ctx, text);
    for (const m of missing) ctx.io.stderr.write(`strata: No such image: ${m}\n`);
    return { kind: 'none', exitCode: 2 };
  }
  return { kind: 'text', text };
}

function write(ctx: CommandContext, s: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!s) return resolve();
    ctx.io.stdout.write(s, (err) => (err ? reject(err) : resolve()));
  });
}
