import { lstatSync, readdirSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';

/** One lower dir of an overlay stack and the directories it marks opaque (relative paths). */
export interface LowerDir {
  dir: string;
  opaque: ReadonlySet<string>;
}

export interface ViewEntry {
  stat: BigIntStats;
  /** The layers (top → bottom) that contribute to this directory's listing. */
  layers: LowerDir[];
}

function isWhiteout(st: BigIntStats): boolean {
  return st.isCharacterDevice() && st.rdev === 0n;
}

function lstatOrUndefined(p: string): BigIntStats | undefined {
  try {
    return lstatSync(p, { bigint: true });
  } catch {
    return undefined;
  }
}

/**
 * The merged read-only view of overlay lower dirs, answered without mounting: whiteouts
 * (0/0 char devices) hide, opaque directories stop the merge, the topmost entry wins, symlinks
 * are not followed (as an lstat walk of the mounted view).
 */
export function lowerView(layers: LowerDir[]) {
  const cache = new Map<string, ViewEntry | undefined>();
  function lookup(rel: string): ViewEntry | undefined {
    if (rel === '.' || rel === '') {
      return { stat: lstatSync(layers[0]?.dir ?? '/', { bigint: true }), layers };
    }
    if (cache.has(rel)) return cache.get(rel);
    const slash = rel.lastIndexOf('/');
    const parent = lookup(slash < 0 ? '.' : rel.slice(0, slash));
    let result: ViewEntry | undefined;
    if (parent && parent.stat.isDirectory()) {
      const contributing: LowerDir[] = [];
      let top: BigIntStats | undefined;
      for (const l of parent.layers) {
        const st = lstatOrUndefined(join(l.dir, rel));
        if (!st) continue;
        if (isWhiteout(st)) break;
        if (!top) top = st;
        if (!top.isDirectory() || !st.isDirectory()) break;
        contributing.push(l);
        if (l.opaque.has(rel)) break;
      }
      if (top) result = { stat: top, layers: contributing };
    }
    cache.set(rel, result);
    return result;
  }
  function children(rel: string): string[] {
    const e = lookup(rel);
    if (!e || !e.stat.isDirectory()) return [];
    const seen = new Set<string>();
    const out: string[] = [];
    for (const l of e.layers) {
      let names: string[];
      try {
        names = readdirSync(rel === '.' ? l.dir : join(l.dir, rel));
      } catch {
        continue;
      }
      for (const n of names) {
        if (seen.has(n)) continue;
        seen.add(n);
        const st = lstatOrUndefined(join(l.dir, rel === '.' ? n : join(rel, n)));
        if (st && !isWhiteout(st)) out.push(n);
      }
    }
    return out;
  }
  return { lookup, children };
}
