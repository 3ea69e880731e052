export { sha256, Hasher, digestStream, hashing, chainIds, isDigest, parseDigest, digestHex, shortId } from './digest';
export type { Digest } from './digest';
export { MediaType, isIndexMediaType, isManifestMediaType, layerCompression, ociLayerMediaType, sniffCompression } from './media-types';
export type { Compression } from './media-types';
export type { Descriptor, Platform, Manifest, Index, ImageConfig, RuntimeConfig, HistoryEntry, HealthConfig } from './types';
export { ANNOTATION_REF_NAME, ANNOTATION_CREATED, ANNOTATION_IMAGE_NAME } from './types';
export { validateDescriptor, parseManifest, parseIndex, parseImageConfig } from './validate';
export {
  parseReference, withDefaultTag, repositoryName, familiarRepository, formatReference, familiarReference, normalizeReference,
  DEFAULT_DOMAIN, DEFAULT_TAG,
} from './reference';
export type { Reference } from './reference';
