import type { Digest } from '@strata/oci';
import type { ByteStream } from '@strata/layer';
import type { TarEntry } from '@strata/tar';

/** A layer of a stack: the uncompressed tar, ideally as a file so contents can be read by range. */
export interface LayerSource {
  /** Path of the uncompressed tar on disk (store blobs are kept uncompressed); enables lazy reads. */
  path?: string;
  /** Opens the uncompressed tar (used to index it when there is no `path`). */
  open?: () => Promise<ByteStream>;
  diffId?: Digest;
  /** A label for messages (`layer 2 sha256:…`). */
  name?: string;
}

/** Where a file's bytes are: in layer `layer` of the view at `offset`, or in a file on disk. */
export type DataRef = { layer: number; offset: number } | { file: string };

/** One path of a merged view. Hardlinks carry their target's data and metadata. */
export interface ViewEntry extends TarEntry {
  /** Index of the layer that provided this entry (-1 for implicit parent directories). */
  layer: number;
  data?: DataRef;
}

export interface UnionView {
  readonly layers: readonly LayerSource[];
  /** The entry at a clean path (`etc/passwd`, `/etc/passwd` or `.`), or undefined. */
  stat(path: string): ViewEntry | undefined;
  /** Sorted child names of a directory; undefined when it is not a directory. */
  readdir(path: string): string[] | undefined;
  /** The bytes of a file (hardlinks read their target). NOT_FOUND / UNSUPPORTED otherwise. */
  read(path: string): Promise<ByteStream>;
  /** Every entry but the root, sorted like a deterministic tar (a directory right before its children). */
  entries(): Iterable<ViewEntry>;
  /** Number of entries (without the root). */
  readonly size: number;
}
