import { StrataError } from '@strata/errors';

/**
 * Clean a path inside a root filesystem: drop leading `/` and `./`, collapse `//` and `.`,
 * resolve `..`. Returns a relative path without trailing `/` (`.` for the root). A `..` that
 * would climb above the root is an UNSAFE_PATH error: callers must never clamp it silently.
 */
export function cleanPath(p: string): string {
  if (isClean(p)) return p.charCodeAt(p.length - 1) === 47 ? p.slice(0, -1) : p;
  if (p.includes('\0')) throw new StrataError('UNSAFE_PATH', `path ${JSON.stringify(p)} contains a NUL byte`);
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw new StrataError('UNSAFE_PATH', `path ${JSON.stringify(p)} escapes the root`);
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out.length === 0 ? '.' : out.join('/');
}

/**
 * Already clean, but for one trailing `/` (the names in a tar that strata wrote): no leading `/`,
 * no empty, `.` or `..` component, no NUL. Checked in one pass, with no allocation.
 */
function isClean(p: string): boolean {
  const n = p.length;
  if (n === 0) return false;
  let start = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? p.charCodeAt(i) : 47;
    if (c === 0) return false;
    if (c !== 47) continue;
    const len = i - start;
    if (len === 0) return i === n && n > 0 && start > 0; // empty: only the end after a trailing '/'
    if (p.charCodeAt(start) === 46 && (len === 1 || (len === 2 && p.charCodeAt(start + 1) === 46))) return false;
    start = i + 1;
  }
  return true;
}

/** `a/b/c` → `a/b`; `a` → `.`; `.` → `.`. */
export function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '.' : rel.slice(0, i);
}

/** `a/b/c` → `c`. */
export function baseOf(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

/** Join a clean relative path onto another (`.` is the root). */
export function joinRel(dir: string, name: string): string {
  return dir === '.' ? name : `${dir}/${name}`;
}

/**
 * Order of entries in a deterministic tar: component by component, bytewise, so a directory
 * comes right before its own children (the order of a sorted recursive walk, as Go's
 * `filepath.Walk` gives), never interleaved with siblings such as `a.txt` vs `a/`.
 */
export function comparePaths(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '.') return -1;
  if (b === '.') return 1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca === cb) continue;
    // '/' ends a component: it sorts before any other character.
    if (ca === 47) ca = -1;
    if (cb === 47) cb = -1;
    return ca - cb;
  }
  return a.length - b.length;
}
