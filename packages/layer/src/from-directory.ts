import { writeTar, type WriteTarOptions } from '@strata/tar';
import { layerFromUncompressed } from './from-opener';
import type { Layer } from './types';
import { walkTree, type WalkOptions } from './walk-tree';

export interface DirectoryLayerOptions extends WalkOptions, WriteTarOptions {
  mediaType?: string;
}

/** The tar of a directory tree: sorted, normalised, streamed (no file is held in memory). */
export function tarDirectory(dir: string, opts: DirectoryLayerOptions = {}): AsyncIterable<Uint8Array> {
  return writeTar(walkTree(dir, opts), opts);
}

/**
 * A layer holding everything under `dir` (the directory must not change while the layer is in
 * use: each read walks it again). Digest and size are computed by one pass on first demand; use
 * `spoolLayer` to write and hash in the same pass.
 */
export function layerFromDirectory(dir: string, opts: DirectoryLayerOptions = {}): Layer {
  return layerFromUncompressed({ open: async () => tarDirectory(dir, opts), mediaType: opts.mediaType });
}
