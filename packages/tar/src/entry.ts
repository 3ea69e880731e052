/** The kinds of tar entries a layer may hold. */
export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

/**
 * One tar entry, decoded. `path` is clean and relative to the root (`etc/passwd`, `.` for the
 * root itself); `name` is the name as it appeared in the tar (for error messages).
 */
export interface TarEntry {
  path: string;
  type: EntryType;
  /** Permission bits including setuid/setgid/sticky (`& 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  uname?: string;
  gname?: string;
  /** Bytes of content (files only; 0 otherwise). */
  size: number;
  /** Seconds since the epoch; may carry a fraction (PAX sub-second times). */
  mtime: number;
  atime?: number;
  /** Symlink target as written, or hardlink target as a clean root-relative path. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes (PAX `SCHILY.xattr.*`), values as raw bytes. */
  xattrs?: Record<string, Buffer>;
  /** The raw name in the tar. */
  name?: string;
}
