import { digestStream, MediaType, type Digest } from '@strata/oci';
import type { ByteStream, Layer, Opener } from './types';

function memo<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= f().catch((err) => {
    p = undefined;
    throw err;
  }));
}

export interface UncompressedLayerOptions {
  /** Opens the tar bytes (may be called more than once). */
  open: Opener;
  /** Known diffID and size; when absent they are computed by reading the tar once. */
  diffId?: Digest;
  size?: number;
  mediaType?: string;
}

/**
 * A layer whose blob is the uncompressed tar (as in the local store): digest = diffID.
 * Digest and size are computed once, by one streaming pass, only if not given.
 */
export function layerFromUncompressed(opts: UncompressedLayerOptions): Layer {
  const hashed = memo(async () =>
    opts.diffId !== undefined && opts.size !== undefined ? { digest: opts.diffId, size: opts.size } : digestStream(await opts.open()),
  );
  return {
    digest: async () => (await hashed()).digest,
    diffId: async () => (await hashed()).digest,
    size: async () => (await hashed()).size,
    uncompressedSize: async () => (await hashed()).size,
    mediaType: async () => opts.mediaType ?? MediaType.OCI_LAYER,
    compressed: () => opts.open(),
    uncompressed: () => opts.open(),
  };
}

export interface BlobLayerOptions {
  mediaType: string;
  digest: Digest;
  size: number;
  diffId: Digest;
  /** The blob bytes as stored. */
  open: Opener;
  /** The blob decompressed. */
  openUncompressed: Opener;
  /** The tar's regular-file bytes, counted as it was written (`Layer.contentSize`). */
  contentSize?: number;
}

/** A layer fully described by a descriptor and its diffID (e.g. read from a manifest + config). */
export function layerFromBlob(opts: BlobLayerOptions): Layer {
  return {
    digest: async () => opts.digest,
    diffId: async () => opts.diffId,
    size: async () => opts.size,
    mediaType: async () => opts.mediaType,
    compressed: () => opts.open(),
    uncompressed: () => opts.openUncompressed(),
    contentSize: async () => opts.contentSize,
  };
}

/** Collect a byte stream (only for small things: manifests, configs, test data). */
export async function readAll(stream: ByteStream): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}
