import { MediaType, layerCompression, type Digest } from '@strata/oci';
import { layerFromUncompressed, type Layer } from '@strata/layer';
import { imageFromParts } from './from-parts';
import type { Image } from './types';

/** What `writeImage` needs of the store (`@strata/image-store`'s Store fits). */
export interface WritableStore {
  readonly blobs: {
    has(digest: Digest): Promise<boolean>;
    open(digest: Digest): Promise<AsyncIterable<Uint8Array>>;
    put(src: AsyncIterable<Uint8Array>, opts?: { expected?: Digest; expectedSize?: number }): Promise<{ digest: Digest; size: number }>;
  };
  putImage(image: Image, opts?: { tags?: string[] }): Promise<{ id: Digest; tags: string[] }>;
}

/**
 * Put an image into the store in the store's form: every layer uncompressed (blob digest =
 * diffID), each blob written once and verified, then the manifest and the tags. This is how a
 * build (append/withConfig results) or any other Image becomes a stored image.
 */
export async function writeImage(store: WritableStore, image: Image, opts: { tags?: string[] } = {}): Promise<{ id: Digest; tags: string[] }> {
  const layers: Layer[] = [];
  for (const layer of await image.layers()) {
    const diffId = await layer.diffId();
    const uncompressed = layerCompression(await layer.mediaType()) === 'none';
    const { size } = (await store.blobs.has(diffId)) && uncompressed
      ? { size: await layer.size() }
      : await store.blobs.put(await layer.uncompressed(), { expected: diffId });
    layers.push(layerFromUncompressed({ open: () => store.blobs.open(diffId), diffId, size, mediaType: MediaType.OCI_LAYER }));
  }
  const manifest = await image.manifest();
  const stored = imageFromParts({ rawConfig: await image.rawConfig(), layers, annotations: manifest.annotations });
  return store.putImage(stored, { tags: opts.tags });
}
