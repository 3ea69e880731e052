import { createReadStream, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWrite, openBlobStore } from '@strata/cas';
import { StrataError } from '@strata/errors';
import {
  ANNOTATION_REF_NAME, MediaType, isDigest, isIndexMediaType, parseIndex, sha256, type Descriptor, type Digest, type Index,
} from '@strata/oci';
import type { FetchedManifest } from './registry';

/**
 * An OCI image layout directory as one end of a copy (skopeo's `oci:DIR[:REF]`): blobs written
 * atomically and verified (temp file, hash, rename), `index.json` naming the image with
 * `org.opencontainers.image.ref.name` = REF, replacing an entry of the same name.
 */
export interface OciDir {
  readonly dir: string;
  /** The top manifest named `ref` (or the only one when `ref` is undefined). */
  top(ref: string | undefined): Promise<FetchedManifest>;
  manifest(digest: Digest): Promise<FetchedManifest>;
  has(d: Descriptor): Promise<boolean>;
  open(d: Descriptor): Promise<AsyncIterable<Uint8Array>>;
  put(d: Descriptor, src: AsyncIterable<Uint8Array>): Promise<void>;
  /** Bytes whose digest is known only once written (a layer compressed on the way). */
  putStream(src: AsyncIterable<Uint8Array>): Promise<{ digest: Digest; size: number }>;
  putBytes(bytes: Uint8Array): Promise<Digest>;
  /** Name the top manifest in index.json. */
  name(top: { digest: Digest; size: number; mediaType: string }, ref: string | undefined): Promise<void>;
}

function readIndexFile(dir: string): Index {
  const file = join(dir, 'index.json');
  if (!existsSync(file)) return { schemaVersion: 2, manifests: [] };
  try {
    return parseIndex(readFileSync(file));
  } catch (err) {
    throw new StrataError('INVALID_ARCHIVE', `${file}: ${(err as Error).message}`, { cause: err });
  }
}

function fetched(bytes: Buffer, digest: Digest, fallback: string): FetchedManifest {
  let mediaType = fallback;
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown };
    mediaType = doc.mediaType ?? (Array.isArray(doc.manifests) ? MediaType.OCI_INDEX : fallback);
  } catch {
    throw new StrataError('INVALID_MANIFEST', `manifest ${digest} is not JSON`);
  }
  return { bytes, digest, mediaType };
}

export async function openOciDir(dir: string, opts: { create: boolean; checkpoint?: (point: string) => void | Promise<void> }): Promise<OciDir> {
  if (!opts.create && !existsSync(join(dir, 'index.json'))) throw new StrataError('NOT_FOUND', `${dir} is not an OCI image layout (no index.json)`);
  if (opts.create && existsSync(dir) && !statSync(dir).isDirectory()) throw new StrataError('USAGE', `${dir} exists and is not a directory`);
  if (opts.create) mkdirSync(dir, { recursive: true });
  // @strata/cas gives atomic verified writes into blobs/sha256 (and writes oci-layout + index.json)
  const blobs = opts.create ? await openBlobStore(dir, { checkpoint: opts.checkpoint }) : undefined;
  const path = (d: Digest) => join(dir, 'blobs', 'sha256', d.slice('sha256:'.length));
  const readManifest = (digest: Digest, fallback: string): FetchedManifest => {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path(digest));
    } catch {
      throw new StrataError('BLOB_NOT_FOUND', `${dir}: manifest ${digest} is missing`);
    }
    if (sha256(bytes) !== digest) throw new StrataError('DIGEST_MISMATCH', `${dir}: manifest ${digest} does not hash to its name`);
    return fetched(bytes, digest, fallback);
  };
  return {
    dir,
    async top(ref) {
      const index = readIndexFile(dir);
      const named = ref === undefined ? index.manifests : index.manifests.filter((d) => d.annotations?.[ANNOTATION_REF_NAME] === ref);
      if (named.length === 0) throw new StrataError('NOT_FOUND', `${dir}: no image${ref ? ` named ${JSON.stringify(ref)}` : ''} in index.json`);
      if (named.length > 1) throw new StrataError('USAGE', `${dir}: index.json names ${named.length} images; say which: oci:${dir}:NAME`);
      return readManifest(named[0].digest, named[0].mediaType);
    },
    manifest: async (digest) => readManifest(digest, MediaType.OCI_MANIFEST),
    has: async (d) => {
      try {
        return statSync(path(d.digest)).size === d.size;
      } catch {
        return false;
      }
    },
    open: async (d) => {
      if (!existsSync(path(d.digest))) throw new StrataError('BLOB_NOT_FOUND', `${dir}: blob ${d.digest} is missing`);
      return createReadStream(path(d.digest), { highWaterMark: 1024 * 1024 });
    },
    put: async (d, src) => {
      if (!blobs) throw new Error('oci dir opened read-only');
      await blobs.put(src, { expected: d.digest, expectedSize: d.size });
    },
    putStream: async (src) => {
      if (!blobs) throw new Error('oci dir opened read-only');
      return blobs.put(src);
    },
    putBytes: async (bytes) => {
      if (!blobs) throw new Error('oci dir opened read-only');
      return (await blobs.putBytes(bytes)).digest;
    },
    async name(top, ref) {
      const index = readIndexFile(dir);
      const keep = index.manifests.filter((d) => (ref === undefined ? d.digest !== top.digest : d.annotations?.[ANNOTATION_REF_NAME] !== ref));
      const entry: Descriptor = { mediaType: top.mediaType, digest: top.digest, size: top.size, ...(ref !== undefined ? { annotations: { [ANNOTATION_REF_NAME]: ref } } : {}) };
      const next: Index = { schemaVersion: 2, ...(index.mediaType ? { mediaType: index.mediaType } : {}), manifests: [...keep, entry] };
      await atomicWrite(join(dir, 'index.json'), JSON.stringify(next), { tmpDir: join(dir, 'tmp') });
      await opts.checkpoint?.('index-written');
    },
  };
}

export function isIndex(m: FetchedManifest): boolean {
  return isIndexMediaType(m.mediaType);
}

export { isDigest };
