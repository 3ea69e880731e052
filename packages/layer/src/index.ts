export type { Layer, Change, ByteStream, Opener } from './types';
export { layerFromUncompressed, layerFromBlob, readAll } from './from-opener';
export type { UncompressedLayerOptions, BlobLayerOptions } from './from-opener';
