// What a layer holds, counted the way Docker does: its "size" is the bytes of the regular files
// it adds (each inode once: hard links are free), which is what `docker history` and
// `docker image inspect` report, not the length of the tar.
import { parseWhiteout, type TarEntry } from '@strata/tar';

export interface LayerUsage {
  /** Docker's layer size: sum of regular file sizes (hard links counted once, symlinks 0). */
  size: number;
  /** Regular files (hard links included). */
  files: number;
  directories: number;
  symlinks: number;
  hardlinks: number;
  /** `.wh.` entries: deletions, and opaque-directory markers. */
  whiteouts: number;
  /** Other entries (devices, fifos). */
  other: number;
}

export function layerUsage(entries: Iterable<Pick<TarEntry, 'path' | 'type' | 'size'>>): LayerUsage {
  const u: LayerUsage = { size: 0, files: 0, directories: 0, symlinks: 0, hardlinks: 0, whiteouts: 0, other: 0 };
  for (const e of entries) {
    if (parseWhiteout(e.path)) {
      u.whiteouts++;
      continue;
    }
    switch (e.type) {
      case 'file':
        u.files++;
        u.size += e.size;
        break;
      case 'hardlink':
        u.files++;
        u.hardlinks++;
        break;
      case 'dir':
        u.directories++;
        break;
      case 'symlink':
        u.symlinks++;
        break;
      default:
        u.other++;
    }
  }
  return u;
}
