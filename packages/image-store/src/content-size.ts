import { tarFileBytes } from '@strata/tar';

/**
 * Docker's size of an uncompressed layer tar on disk: the bytes of its regular files (hard links,
 * symlinks, directories and whiteouts count 0) — what `docker image ls` shows, not the tar's
 * length. Reads only headers, jumping over file data. Undefined when the file is not a tar it
 * can read.
 */
export function layerContentSize(path: string): number | undefined {
  try {
    return tarFileBytes(path);
  } catch {
    return undefined;
  }
}
