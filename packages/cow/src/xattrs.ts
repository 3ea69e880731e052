import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readXattrs } from '@strata/tar';

/** Extended attributes of every entry under `dir` that has some, keyed by path relative to `dir` (`.` for itself). */
export function readTreeXattrs(dir: string): Map<string, Record<string, Buffer>> {
  const out = new Map<string, Record<string, Buffer>>();
  const visit = (rel: string) => {
    const a = readXattrs(rel === '.' ? dir : join(dir, rel));
    if (a) out.set(rel, a);
  };
  visit('.');
  const walk = (rel: string) => {
    for (const d of readdirSync(rel === '.' ? dir : join(dir, rel), { withFileTypes: true })) {
      const child = rel === '.' ? d.name : `${rel}/${d.name}`;
      visit(child);
      if (d.isDirectory()) walk(child);
    }
  };
  walk('.');
  return out;
}

/** Directories marked opaque (`trusted.overlay.opaque=y`) under `dir`. */
export function opaqueDirs(xattrs: Map<string, Record<string, Buffer>>): Set<string> {
  const out = new Set<string>();
  for (const [p, a] of xattrs) if (a['trusted.overlay.opaque']?.toString() === 'y') out.add(p);
  return out;
}
