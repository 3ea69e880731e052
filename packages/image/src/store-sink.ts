import type { Digest } from '@strata/oci';
import type { Image } from './types';

/**
 * The part of `@strata/image-store`'s Store that loading and importing need. `image` sits below
 * `image-store`, so the store is handed in (and opened only once an archive has been verified).
 */
export interface ImageSink {
  readonly root: string;
  readonly blobs: {
    path(digest: Digest): string;
    has(digest: Digest): Promise<boolean>;
    open(digest: Digest): Promise<AsyncIterable<Uint8Array>>;
  };
  putImage(image: Image, opts?: { tags?: string[] }): Promise<{ id: Digest; tags: string[] }>;
  withLock<T>(fn: () => Promise<T>): Promise<T>;
}
