import { openTarFile } from '@strata/tar';

/**
 * Docker's size of an uncompressed layer tar on disk: the bytes of its regular files (hard links,
 * symlinks, directories and whiteouts count 0) — what `docker image ls` shows, not the tar's
 * length. Reads only headers (through @strata/tar's window: the headers of small files sit a
 * block or two apart), jumping over file data. Undefined when the file is not a tar it can read.
 */
export function layerContentSize(path: string): number | undefined {
  let total = 0;
  try {
    const c = openTarFile(path, { clean: false });
    try {
      for (let x = c.next(); x !== undefined; x = c.next()) if (x.entry.type === 'file') total += x.entry.size;
    } finally {
      c.close();
    }
  } catch {
    return undefined;
  }
  return total;
}
