// A tree's manifest: what a backup must keep. Path, type, mode, uid, gid, size, sha256 of the
// content, link target, hard-link group (the first path of the inode), xattrs; optionally mtimes.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { readXattrs } from '@strata/tar';

export interface ManifestEntry {
  path: string;
  type: string;
  mode: string;
  uid: number;
  gid: number;
  size: number;
  sha256?: string;
  link?: string;
  hardlinkOf?: string;
  xattrs?: Record<string, string>;
  mtime?: number;
}

function typeOf(st: NonNullable<ReturnType<typeof lstatSync>>): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'other';
}

/** `mtimes: 'files'`: directories' times left out (what a copy that writes children into them changes). */
export function manifest(dir: string, o: { mtimes?: boolean | 'files'; root?: boolean } = {}): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  const firstOf = new Map<string, string>();
  const visit = (rel: string) => {
    const abs = rel ? join(dir, rel) : dir;
    const st = lstatSync(abs);
    const e: ManifestEntry = { path: rel || '.', type: typeOf(st), mode: (st.mode & 0o7777).toString(8), uid: st.uid, gid: st.gid, size: st.isFile() ? st.size : 0 };
    if (st.isFile()) {
      e.sha256 = createHash('sha256').update(readFileSync(abs)).digest('hex');
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = firstOf.get(key);
        if (first) e.hardlinkOf = first;
        else firstOf.set(key, e.path);
      }
    }
    if (st.isSymbolicLink()) e.link = readlinkSync(abs);
    else {
      const x = readXattrs(abs);
      if (x && Object.keys(x).length) e.xattrs = Object.fromEntries(Object.entries(x).sort().map(([k, v]) => [k, v.toString('base64')]));
    }
    if (o.mtimes && !st.isSymbolicLink() && !(o.mtimes === 'files' && st.isDirectory())) e.mtime = Math.floor(st.mtimeMs / 1000);
    if (rel || o.root !== false) out.push(e);
    if (st.isDirectory()) for (const n of readdirSync(abs).sort()) visit(rel ? `${rel}/${n}` : n);
  };
  visit('');
  return out;
}
