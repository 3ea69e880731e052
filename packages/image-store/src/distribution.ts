import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWrite } from '@strata/cas';
import { digestHex, isDigest, type Digest } from '@strata/oci';

/**
 * Where a layer's compressed form is known to live (Docker's v2metadata-by-diffid): its blob
 * digest, size and media type, and the repositories (`domain/path`) that have it.
 */
export interface LayerSource {
  digest: Digest;
  size: number;
  mediaType: string;
  repositories: string[];
}

/** A manifest an image was pulled as or pushed as, kept byte for byte (Docker's RepoDigests). */
export interface ImageSource {
  /** `domain/path` */
  repository: string;
  /** Digest of `manifest` (the platform manifest). */
  digest: Digest;
  /** The index it was reached through, if any (what `RepoDigests` names). */
  indexDigest?: Digest;
  mediaType: string;
  manifest: string;
}

/**
 * The store's distribution metadata: `ROOT/distribution/layers/<diffID hex>.json` (a
 * LayerSource list) and `ROOT/distribution/images/<image ID hex>.json` (an ImageSource list).
 * Pulls record where each layer came from; pushes record the compressed digest they made, so
 * a later push skips, mounts, or at least knows the digest without compressing again. It is a
 * cache: a missing or unreadable file only costs an upload; files are written atomically, and a
 * write the filesystem refuses (full, read-only) is skipped. `collectGarbage` removes the records
 * of blobs that left the store.
 */
export interface Distribution {
  layerSources(diffId: Digest): LayerSource[];
  addLayerSource(diffId: Digest, source: { digest: Digest; size: number; mediaType: string; repository?: string }): Promise<void>;
  imageSources(imageId: Digest): ImageSource[];
  addImageSource(imageId: Digest, source: ImageSource): Promise<void>;
}

function readList<T>(file: string): T[] {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return Array.isArray(v) ? (v as T[]) : [];
  } catch {
    return [];
  }
}

export function openDistribution(root: string): Distribution {
  const dir = join(root, 'distribution');
  const tmpDir = join(root, 'tmp');
  const layerFile = (d: Digest) => join(dir, 'layers', `${digestHex(d)}.json`);
  const imageFile = (d: Digest) => join(dir, 'images', `${digestHex(d)}.json`);
  // Written after the work it records is done (a pull's images are in the index by then): a
  // filesystem that is full or read-only costs the cache its entry, never the command its success.
  const write = async (file: string, value: unknown) => {
    try {
      mkdirSync(join(file, '..'), { recursive: true });
      mkdirSync(tmpDir, { recursive: true });
      await atomicWrite(file, JSON.stringify(value), { tmpDir });
    } catch (err) {
      if (typeof (err as NodeJS.ErrnoException).syscall !== 'string') throw err;
    }
  };
  return {
    layerSources: (diffId) => readList<LayerSource>(layerFile(diffId)).filter((s) => s && isDigest(s.digest) && Array.isArray(s.repositories)),
    async addLayerSource(diffId, source) {
      const list = readList<LayerSource>(layerFile(diffId)).filter((s) => s && isDigest(s.digest));
      let entry = list.find((s) => s.digest === source.digest);
      let changed = false;
      if (!entry) {
        list.push((entry = { digest: source.digest, size: source.size, mediaType: source.mediaType, repositories: [] }));
        changed = true;
      }
      if (source.repository !== undefined && !entry.repositories.includes(source.repository)) {
        entry.repositories.push(source.repository);
        changed = true;
      }
      if (!changed) return;
      await write(layerFile(diffId), list);
    },
    imageSources: (imageId) => readList<ImageSource>(imageFile(imageId)).filter((s) => s && isDigest(s.digest) && typeof s.manifest === 'string'),
    async addImageSource(imageId, source) {
      const list = readList<ImageSource>(imageFile(imageId)).filter((s) => !(s.repository === source.repository && s.digest === source.digest));
      list.push(source);
      await write(imageFile(imageId), list);
    },
  };
}
