import { closeSync, readdirSync } from 'node:fs';
import { fdPath, openDirAt, openRoot, readXattrs } from '@strata/tar';

/**
 * Extended attributes of every entry under `dir` that has some, keyed by path relative to `dir`
 * (`.` for itself). The walk goes through descriptors: a directory swapped for a symlink
 * meanwhile is read as the symlink, never followed (docs/PATH-SAFETY.md).
 */
export function readTreeXattrs(dir: string): Map<string, Record<string, Buffer>> {
  const out = new Map<string, Record<string, Buffer>>();
  const walk = (rel: string, dfd: number) => {
    for (const d of readdirSync(fdPath(dfd), { withFileTypes: true })) {
      const child = rel === '.' ? d.name : `${rel}/${d.name}`;
      const a = readXattrs(fdPath(dfd, d.name));
      if (a) out.set(child, a);
      if (!d.isDirectory()) continue;
      const cfd = openDirAt(dfd, d.name);
      if (cfd === undefined) continue; // no longer a directory: nothing below it to read
      try {
        walk(child, cfd);
      } finally {
        closeSync(cfd);
      }
    }
  };
  const rootFd = openRoot(dir);
  try {
    // the root is trusted (and /proc/self/fd/N itself is a link: l*xattr would read the link's)
    const a = readXattrs(dir);
    if (a) out.set('.', a);
    walk('.', rootFd);
  } finally {
    closeSync(rootFd);
  }
  return out;
}

/** Directories marked opaque (`trusted.overlay.opaque=y`) under `dir`. */
export function opaqueDirs(xattrs: Map<string, Record<string, Buffer>>): Set<string> {
  const out = new Set<string>();
  for (const [p, a] of xattrs) if (a['trusted.overlay.opaque']?.toString() === 'y') out.add(p);
  return out;
}
