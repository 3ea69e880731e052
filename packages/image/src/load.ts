import { createReadStream, fsync, mkdirSync, openSync, closeSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { StrataError } from '@strata/errors';
import { MediaType, type Digest } from '@strata/oci';
import { layerFromUncompressed } from '@strata/layer';
import { readArchiveDirectory, readArchiveStream, type Members } from './archive-members';
import { readDockerArchive } from './docker-archive-read';
import { imageFromParts } from './from-parts';
import { readOciLayout, type PlatformWanted } from './oci-layout-read';
import { createStaging, type Staging, type StagedBlob } from './staging';
import type { ImageSink } from './store-sink';
import type { LoadedImage } from './verify';

export type ArchiveSource =
  | { path: string }
  | { stream: AsyncIterable<Uint8Array>; name?: string };

export interface LoadOptions {
  /** Store root: staging happens in ROOT/tmp, so that committing is a rename. */
  root: string;
  /** Opens the store; called only once the archive has been read and verified. */
  openStore: () => Promise<ImageSink>;
  source: ArchiveSource;
  /** Which image to take from multi-platform indexes (default linux/amd64). */
  platform?: PlatformWanted;
  /**
   * Called at each step of the commit, under the store lock, with its name and awaited: `locked`,
   * `layer-moved:N` (N layers moved into the store so far), `layers-moved` (and their directories
   * synced), `image-stored:N` (N images recorded in the index); before that, `staged` after each
   * member is written to ROOT/tmp. Crash tests stop the process there.
   */
  checkpoint?: (point: string) => void | Promise<void>;
}

export interface LoadedRecord {
  id: Digest;
  tags: string[];
  layers: number;
  /** Which layout the archive had. */
  format: 'docker-archive' | 'oci-layout';
}

function readMembers(source: ArchiveSource, staging: Staging): Promise<Members> {
  if ('stream' in source) return readArchiveStream(source.stream, staging, source.name ?? 'stdin');
  let st;
  try {
    st = statSync(source.path);
  } catch (err) {
    throw new StrataError('NOT_FOUND', `cannot read ${source.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  if (st.isDirectory()) return Promise.resolve(readArchiveDirectory(source.path));
  return readArchiveStream(createReadStream(source.path, { highWaterMark: 1024 * 1024 }), staging, source.path);
}

/**
 * `image load`: a docker-archive (legacy or Docker ≥25) or an OCI layout (tar or directory),
 * detected by content. The archive is read once into ROOT/tmp; only when every blob has been
 * verified do layers move into the store (by rename) and images get tagged. Any failure leaves
 * the store exactly as it was.
 */
export async function loadImages(opts: LoadOptions): Promise<LoadedRecord[]> {
  const staging = createStaging(opts.root, 'load', opts.checkpoint);
  let ok = false;
  try {
    const members = await readMembers(opts.source, staging);
    let format: LoadedRecord['format'];
    let images: LoadedImage[];
    if (members.has('manifest.json')) {
      format = 'docker-archive';
      images = await readDockerArchive(members, staging);
    } else if (members.has('index.json')) {
      format = 'oci-layout';
      images = await readOciLayout(members, staging, opts.platform);
    } else if (members.has('repositories')) {
      throw new StrataError('UNSUPPORTED', `${members.what} is a pre-1.10 docker-archive (no manifest.json); re-save it with a current Docker`);
    } else {
      throw new StrataError('INVALID_ARCHIVE', `${members.what} is not an image archive (no manifest.json or index.json)`);
    }
    if (images.length === 0) throw new StrataError('INVALID_ARCHIVE', `${members.what} contains no image`);
    const stored = await commitImages(opts, staging, images);
    ok = true;
    return stored.map((s, i) => ({ id: s.id, tags: s.tags, layers: images[i].layers.length, format }));
  } finally {
    if (ok) staging.finish();
    else staging.discard();
  }
}

/**
 * Move verified, staged layers into the blob store and record the images, under the store lock
 * (so a concurrent GC cannot take a blob between its arrival and the index entry naming it).
 */
export async function commitImages(
  opts: Pick<LoadOptions, 'openStore' | 'checkpoint'>,
  staging: Staging,
  images: LoadedImage[],
): Promise<Array<{ id: Digest; tags: string[] }>> {
  await staging.synced();
  const store = await opts.openStore();
  const checkpoint = opts.checkpoint ?? (() => undefined);
  return store.withLock(async () => {
    await checkpoint('locked');
    const moved = new Set<Digest>();
    const dirs = new Set<string>();
    let renamed = 0;
    for (const img of images) {
      for (const blob of img.layers) {
        if (moved.has(blob.diffId)) continue;
        moved.add(blob.diffId);
        if (await store.blobs.has(blob.diffId)) continue;
        const target = store.blobs.path(blob.diffId);
        mkdirSync(dirname(target), { recursive: true });
        renameSync(blob.file, target);
        dirs.add(dirname(target));
        await checkpoint(`layer-moved:${++renamed}`);
      }
    }
    for (const d of dirs) await fsyncDir(d);
    await checkpoint('layers-moved');
    const out = [];
    for (const img of images) {
      const layers = img.layers.map((b: StagedBlob) =>
        layerFromUncompressed({ open: () => store.blobs.open(b.diffId), diffId: b.diffId, size: b.size, mediaType: MediaType.OCI_LAYER }),
      );
      const image = imageFromParts({ rawConfig: img.rawConfig, layers, annotations: img.annotations });
      const s = await store.putImage(image, { tags: img.tags });
      out.push({ id: s.id, tags: img.tags });
      await checkpoint(`image-stored:${out.length}`);
    }
    return out;
  });
}

function fsyncDir(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  return new Promise((resolve) =>
    fsync(fd, () => {
      closeSync(fd);
      resolve();
    }),
  );
}
