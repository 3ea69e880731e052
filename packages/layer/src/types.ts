import type { Digest } from '@strata/oci';

/** Bytes as a stream. Anything read twice takes an opener instead. */
export type ByteStream = AsyncIterable<Uint8Array>;
export type Opener = () => Promise<ByteStream>;

/**
 * A layer: a tar changeset. `diffId` names the uncompressed tar; `digest`/`size`/`mediaType`
 * describe the blob as it is stored or transported (equal to the uncompressed form when
 * `mediaType` is an uncompressed layer type, as in the local store).
 */
export interface Layer {
  digest(): Promise<Digest>;
  diffId(): Promise<Digest>;
  size(): Promise<number>;
  mediaType(): Promise<string>;
  /** The blob bytes, as `mediaType` says. */
  compressed(): Promise<ByteStream>;
  /** The tar bytes. */
  uncompressed(): Promise<ByteStream>;
  /** Optional: size of the uncompressed tar, when known without reading. */
  uncompressedSize?(): Promise<number>;
  /**
   * Optional: the bytes of the tar's regular files (Docker's size of a layer), when counted as
   * the tar was written; undefined otherwise (then the store reads the headers for it).
   */
  contentSize?(): Promise<number | undefined>;
}

/** One entry of a diff between two trees or views (the `docker diff` model, with details). */
export interface Change {
  /** Absolute, clean path inside the root filesystem (`/etc/passwd`). */
  path: string;
  kind: 'add' | 'modify' | 'delete';
  /** For `modify`: what differs. */
  what?: Array<'type' | 'content' | 'mode' | 'owner' | 'linkname' | 'size' | 'mtime' | 'xattrs'>;
}
