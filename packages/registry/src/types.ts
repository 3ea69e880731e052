import type { Digest } from '@strata/oci';
import type { Image, ImageSink } from '@strata/image';

/**
 * What pull and push need of the local store (`@strata/image-store`'s Store fits; it sits in the
 * same tier, so it is handed in).
 */
export interface LocalStore extends ImageSink {
  readonly blobs: ImageSink['blobs'] & {
    size(digest: Digest): Promise<number | undefined>;
    hold(digests: Iterable<Digest>): void;
  };
  image(ref: string): Promise<{ id: Digest; manifestDigest: Digest; tags: string[]; image: Image }>;
}

/** The store's distribution metadata (`@strata/image-store`'s `openDistribution(root)` fits). */
export interface DistributionRecords {
  layerSources(diffId: Digest): Array<{ digest: Digest; size: number; mediaType: string; repositories: string[] }>;
  addLayerSource(diffId: Digest, source: { digest: Digest; size: number; mediaType: string; repository?: string }): Promise<void>;
  imageSources(imageId: Digest): Array<{ repository: string; digest: Digest; indexDigest?: Digest; mediaType: string; manifest: string }>;
  addImageSource(imageId: Digest, source: { repository: string; digest: Digest; indexDigest?: Digest; mediaType: string; manifest: string }): Promise<void>;
}

/** One line of transfer progress, per layer (Docker's wording) or for the whole image. */
export type TransferEvent =
  | {
      type: 'layer';
      /** Short digest, as Docker prints it. */
      id: string;
      status: 'Waiting' | 'Downloading' | 'Verifying' | 'Pull complete' | 'Already exists' | 'Preparing' | 'Pushing' | 'Pushed' | 'Layer already exists' | 'Mounted' | 'Copying' | 'Copied' | 'Skipped';
      current?: number;
      total?: number;
      /** For `Mounted`: the repository it came from. */
      from?: string;
    }
  | { type: 'status'; message: string };

export type Progress = (event: TransferEvent) => void;
