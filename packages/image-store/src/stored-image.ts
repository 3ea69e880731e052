import type { BlobStore } from '@strata/cas';
import { StrataError } from '@strata/errors';
import { decompress, layerFromBlob, type Layer } from '@strata/layer';
import type { Image } from '@strata/image';
import { layerCompression, parseImageConfig, parseManifest, sha256, type Digest, type ImageConfig, type Manifest } from '@strata/oci';

/**
 * An Image read from the blob store. Manifest and config bytes are read once (they are small);
 * layers stream from their blobs. Layers in the local store are uncompressed (blob = diffID);
 * images other tools put into the layout may have compressed layers, decompressed on read.
 */
export function storedImage(blobs: BlobStore, digest: Digest, rawManifest: Buffer, manifest: Manifest, rawConfig: Buffer, config: ImageConfig): Image {
  const layers = manifest.layers.map((d, i): Layer => {
    const compression = layerCompression(d.mediaType);
    return layerFromBlob({
      mediaType: d.mediaType,
      digest: d.digest,
      size: d.size,
      diffId: config.rootfs.diff_ids[i] ?? d.digest,
      open: () => blobs.open(d.digest),
      openUncompressed: async () => decompress(await blobs.open(d.digest), compression ?? 'none', `layer ${d.digest}`),
    });
  });
  return {
    digest: async () => digest,
    manifest: async () => structuredClone(manifest),
    rawManifest: async () => rawManifest,
    configDigest: async () => manifest.config.digest,
    config: async () => structuredClone(config),
    rawConfig: async () => rawConfig,
    layers: async () => [...layers],
  };
}

/** Read and validate manifest + config of one stored image. */
export async function readStoredImage(blobs: BlobStore, digest: Digest): Promise<{ image: Image; manifest: Manifest; config: ImageConfig }> {
  const rawManifest = await blobs.read(digest);
  if (sha256(rawManifest) !== digest) throw new StrataError('STORE_CORRUPT', `manifest ${digest} does not hash to its digest`, { hint: 'run `strata store check`' });
  const manifest = parseManifest(rawManifest);
  const rawConfig = await blobs.read(manifest.config.digest);
  const config = parseImageConfig(rawConfig);
  return { image: storedImage(blobs, digest, rawManifest, manifest, rawConfig, config), manifest, config };
}
