import { mkdtempSync, rmSync, mkdirSync, writeFileSync, symlinkSync, linkSync, chmodSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createHash } from 'node:crypto';

const made: string[] = [];

/** A fresh temp directory, removed by `cleanupTempDirs()` (call it in afterAll). */
export function tempDir(prefix = 'strata-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export function cleanupTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export type TreeSpec = {
  [path: string]:
    | string
    | { content?: string | Uint8Array; mode?: number }
    | { symlink: string }
    | { hardlink: string }
    | { dir: true; mode?: number };
};

/** Write a tree from an object literal: `{ 'a/b.txt': 'hi', 'l': { symlink: 'a' }, 'd': { dir: true } }`. */
export function writeTree(root: string, spec: TreeSpec): string {
  for (const [p, v] of Object.entries(spec)) {
    const full = join(root, p);
    mkdirSync(dirname(full), { recursive: true });
    if (typeof v === 'string') writeFileSync(full, v);
    else if ('symlink' in v) symlinkSync(v.symlink, full);
    else if ('hardlink' in v) linkSync(join(root, v.hardlink), full);
    else if ('dir' in v) {
      mkdirSync(full, { recursive: true });
      if (v.mode !== undefined) chmodSync(full, v.mode);
    } else {
      writeFileSync(full, v.content ?? '');
      if (v.mode !== undefined) chmodSync(full, v.mode);
    }
  }
  return root;
}

/**
 * A digest of a whole directory tree: names, types, modes, sizes, link targets and file bytes.
 * Equal before and after an operation means "byte-for-byte unchanged".
 */
export function hashTree(root: string): string {
  const h = createHash('sha256');
  const walk = (rel: string) => {
    const full = join(root, rel);
    const st = lstatSync(full);
    h.update(`${rel}\0${st.mode}\0${st.isFile() ? st.size : 0}\0`);
    if (st.isSymbolicLink()) h.update(readlinkSync(full));
    else if (st.isFile()) h.update(readFileSync(full));
    else if (st.isDirectory()) for (const n of readdirSync(full).sort()) walk(rel ? `${rel}/${n}` : n);
  };
  walk('');
  return h.digest('hex');
}

/**
 * Now, in whole seconds, on the clock that stamps files (a file's mtime just created in `dir`),
 * not the process clock: a test that sets file times relative to now must use this one, or a
 * faked process clock (the year-ahead test run) puts its files a year in the future.
 */
export function fileClockSeconds(dir = tmpdir()): number {
  const probe = join(dir, `.strata-now-${process.pid}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(probe, '');
  try {
    return Math.floor(statSync(probe).mtimeMs / 1000);
  } finally {
    rmSync(probe, { force: true });
  }
}
