// What a layer holds, counted the way Docker does: its "size" is the bytes of the regular files
// it adds (each inode once: hard links are free), which is what `docker history` and
// `docker image inspect` report, not the length of the tar.
import type { TarHeader } from './tar-scan';

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

export function layerUsage(entries: Iterable<TarHeader>): LayerUsage {
  const u: LayerUsage = { size: 0, files: 0, directories: 0, symlinks: 0, hardlinks: 0, whiteouts: 0, other: 0 };
  for (const e of entries) {
    const base = e.path.replace(/\/+$/, '').split('/').pop() ?? '';
    if (base.startsWith('.wh.')) {
      u.whiteouts++;
      continue;
    }
    switch (e.type) {
      case 'file':
        u.files++;
        u.size += e.size;
        break;
      case 'link':
        u.files++;
        u.hardlinks++;
        break;
      case 'directory':
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
