// Resolving command operands (image references, image archives, layer tars, directories) to
// union views. Shared by the layer-* and image-export/cat/files commands.
import { createReadStream, existsSync, mkdtempSync, openSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StrataError } from '@strata/errors';
import { layerCompression, sniffCompression, type Compression, type Digest, type ImageConfig } from '@strata/oci';
import { decompress, spoolLayer } from '@strata/layer';
import { indexTarFile } from '@strata/tar';
import { directoryView, unionView, type LayerSource, type UnionView } from '@strata/unionfs';
import { openStore, type StoredImage } from '@strata/image-store';
import { loadImages, type ImageSink } from '@strata/image';

/** Temp files made while resolving operands; `cleanup()` removes them. */
export interface Scratch {
  dir(): string;
  cleanup(): void;
}

export function scratch(): Scratch {
  let d: string | undefined;
  return {
    dir: () => (d ??= mkdtempSync(join(tmpdir(), 'strata-layer-'))),
    cleanup: () => {
      if (d) rmSync(d, { recursive: true, force: true });
    },
  };
}

export interface ResolvedImage {
  image: StoredImage;
  config: ImageConfig;
  layers: LayerSource[];
}

/** The layers of a stored image as uncompressed tar files (store blobs are kept uncompressed). */
export async function storedImageLayers(root: string, ref: string, tmp: Scratch): Promise<ResolvedImage> {
  const store = await openStore(root);
  const image = await store.image(ref);
  const manifest = await image.image.manifest();
  const config = await image.image.config();
  const diffIds = config.rootfs?.diff_ids ?? [];
  const layerObjs = await image.image.layers();
  const layers: LayerSource[] = [];
  for (const [i, d] of manifest.layers.entries()) {
    const diffId = diffIds[i] as Digest | undefined;
    const path = store.blobs.path(d.digest as Digest);
    if (layerCompression(d.mediaType) === 'none' && existsSync(path)) {
      layers.push({ path, diffId, name: `layer ${i}` });
    } else {
      // Not stored uncompressed: decompress once to a temp file, to read it by range.
      const spooled = await spoolLayer(await layerObjs[i].uncompressed(), tmp.dir());
      layers.push({ path: spooled.path, diffId: diffId ?? (await spooled.diffId()), name: `layer ${i}` });
    }
  }
  return { image, config, layers };
}

function sniff(path: string): ReturnType<typeof sniffCompression> {
  const fd = openSync(path, 'r');
  const head = Buffer.alloc(8);
  const n = readSync(fd, head, 0, 8, 0);
  closeSync(fd);
  return sniffCompression(head.subarray(0, n));
}

/** A plain tar file for `path`: itself, or decompressed into scratch. */
export async function plainTar(path: string, tmp: Scratch): Promise<string> {
  const c = sniff(path);
  if (c === 'none') return path;
  if (c === 'bzip2' || c === 'xz') throw new StrataError('UNSUPPORTED', `${path}: ${c}-compressed tars are not supported`);
  const spooled = await spoolLayer(decompress(createReadStream(path) as AsyncIterable<Uint8Array>, c as Compression), tmp.dir());
  return spooled.path;
}

/** Is this tar an image archive (docker save, OCI layout) rather than a layer? Headers only. */
function isImageArchive(path: string): boolean {
  let manifest = false;
  let layerTar = false;
  for (const entry of indexTarFile(path, { what: path })) {
    if (entry.path === 'oci-layout') return true;
    if (entry.path === 'manifest.json') manifest = true;
    if (/^[^/]+\/layer\.tar$/.test(entry.path) || entry.path.startsWith('blobs/sha256/')) layerTar = true;
    if (manifest && layerTar) return true;
  }
  return false;
}

/** Load an image archive into a scratch store and return its (first) image. */
async function archiveImage(path: string, tmp: Scratch): Promise<ResolvedImage> {
  const root = join(tmp.dir(), `store-${Math.random().toString(36).slice(2)}`);
  const loaded = await loadImages({ root, openStore: async () => (await openStore(root)) as unknown as ImageSink, source: { path } });
  if (loaded.length === 0) throw new StrataError('INVALID_ARCHIVE', `${path}: no image in the archive`);
  return storedImageLayers(root, loaded[0].id, tmp);
}

export type OperandKind = 'image' | 'image-archive' | 'layer' | 'directory';

export interface Operand {
  kind: OperandKind;
  label: string;
  view: UnionView;
  image?: ResolvedImage;
}

/**
 * An operand of `layer diff` (and friends): a directory, an image archive, a layer tar (plain,
 * gzip or zstd), or else an image reference in the store.
 */
export async function resolveOperand(root: string, arg: string, tmp: Scratch): Promise<Operand> {
  let st;
  try {
    st = statSync(arg);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) return { kind: 'directory', label: arg, view: directoryView(arg) };
  if (st?.isFile()) {
    const plain = await plainTar(arg, tmp);
    if (isImageArchive(plain)) {
      const image = await archiveImage(plain, tmp);
      return { kind: 'image-archive', label: arg, view: await unionView(image.layers), image };
    }
    return { kind: 'layer', label: arg, view: await unionView([{ path: plain, name: arg }]) };
  }
  const image = await storedImageLayers(root, arg, tmp);
  return { kind: 'image', label: arg, view: await unionView(image.layers), image };
}

/** An image operand (reference or archive) for commands that need an image. */
export async function resolveImage(root: string, arg: string, tmp: Scratch): Promise<ResolvedImage> {
  if (statSync(arg, { throwIfNoEntry: false })?.isFile()) {
    const plain = await plainTar(arg, tmp);
    if (isImageArchive(plain)) return archiveImage(plain, tmp);
  }
  return storedImageLayers(root, arg, tmp);
}

/** The history line that made each layer (history entries with `empty_layer` make none). */
export function layerHistory(config: ImageConfig, count: number): Array<string | undefined> {
  const out: Array<string | undefined> = [];
  for (const h of config.history ?? []) {
    if (h.empty_layer) continue;
    out.push(h.created_by);
  }
  return Array.from({ length: count }, (_, i) => out[i]);
}
