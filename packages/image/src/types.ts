import type { Digest, ImageConfig, Manifest } from '@strata/oci';
import type { Layer } from '@strata/layer';

/** A single-platform image. Read-only: mutations return new images. */
export interface Image {
  /** Manifest digest. */
  digest(): Promise<Digest>;
  manifest(): Promise<Manifest>;
  rawManifest(): Promise<Uint8Array>;
  /** Config digest = image ID (as Docker). */
  configDigest(): Promise<Digest>;
  config(): Promise<ImageConfig>;
  rawConfig(): Promise<Uint8Array>;
  /** Bottom to top. */
  layers(): Promise<Layer[]>;
}
