import { MediaType, parseImageConfig, sha256, type Descriptor, type Digest, type ImageConfig, type Manifest } from '@strata/oci';
import type { Layer } from '@strata/layer';
import type { Image } from './types';

export interface ImageParts {
  /** Config bytes, kept exactly (the image ID is their digest). */
  rawConfig: Uint8Array;
  /** Bottom to top; their descriptors (digest, size, media type) make the manifest's layers. */
  layers: Layer[];
  /** Manifest annotations. */
  annotations?: Record<string, string>;
  /** Config media type (default OCI). */
  configMediaType?: string;
}

function memo<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= f());
}

/** An OCI image from its config bytes and layers; the manifest is derived from them once. */
export function imageFromParts(parts: ImageParts): Image {
  const rawConfig = Buffer.from(parts.rawConfig);
  const configDigest = sha256(rawConfig);
  const config = memo(async () => parseImageConfig(rawConfig));
  const rawManifest = memo(async () => {
    const layers: Descriptor[] = [];
    for (const l of parts.layers) layers.push({ mediaType: await l.mediaType(), digest: await l.digest(), size: await l.size() });
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.OCI_MANIFEST,
      config: { mediaType: parts.configMediaType ?? MediaType.OCI_CONFIG, digest: configDigest, size: rawConfig.length },
      layers,
      ...(parts.annotations && Object.keys(parts.annotations).length ? { annotations: parts.annotations } : {}),
    };
    return Buffer.from(JSON.stringify(manifest));
  });
  return {
    digest: async () => sha256(await rawManifest()) as Digest,
    manifest: async () => JSON.parse((await rawManifest()).toString('utf8')) as Manifest,
    rawManifest,
    configDigest: async () => configDigest,
    config: async () => structuredClone(await config()) as ImageConfig,
    rawConfig: async () => rawConfig,
    layers: async () => [...parts.layers],
  };
}
