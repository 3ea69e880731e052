import {
  chmodSync, closeSync, constants, linkSync, lchownSync, lstatSync, lutimesSync, mkdirSync, openSync, readdirSync,
  realpathSync, rmSync, symlinkSync, utimesSync, writeSync, type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { StrataError, wrapError } from '@strata/errors';
import { baseOf, cleanPath, joinRel, parentOf } from './clean-path';
import type { TarEntry } from './entry';
import { readTar } from './read-tar';
import { parseWhiteout, WHITEOUT_PREFIX } from './whiteout';
import { setXattr } from './xattrs';
import { makeNode } from './mknod';

export interface ApplyLayerOptions {
  /**
   * What to do with whiteout markers:
   * - `apply` (default): delete from lower content, as `docker` does when it extracts a layer onto the layers below;
   * - `overlay`: turn them into overlayfs whiteouts (char device 0:0, `trusted.overlay.opaque=y`) for a snapshot used as a lower dir;
   * - `keep`: write them as ordinary empty files.
   */
  whiteouts?: 'apply' | 'overlay' | 'keep';
  /** Apply owners, devices and xattrs (default: when running as root). */
  root?: boolean;
  /** Name used in error messages. */
  what?: string;
  /** Called after each entry is applied. */
  onEntry?: (entry: TarEntry) => void;
  /**
   * The owner, mode and times of a parent directory that the tar implies but holds no entry for
   * (`a/b/f` without `a/b/`). A snapshot passes the same directory of the layers below, as
   * containerd's applier does: overlayfs shows the top-most copy of a directory, so a parent made
   * as root 0755 would hide the real one's owner. Undefined (the default): root, 0755.
   */
  implicitDir?: (rel: string) => ImplicitDir | undefined;
}

/** What an implied parent directory copies from the same directory below. */
export interface ImplicitDir {
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
  atime?: number;
}

export interface ApplyLayerResult {
  entries: number;
  files: number;
  bytes: number;
  whiteouts: number;
  /** Things that could not be applied without privileges (devices, owners) or tools (xattrs). */
  skipped: string[];
}

const NOFOLLOW_CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function unsafe(what: string, name: string, why: string): StrataError {
  return new StrataError('UNSAFE_PATH', `${what}: entry ${JSON.stringify(name)} ${why}`);
}

/** Set extended attributes; each one that cannot be set (no privilege, a filesystem without them) is reported. */
function setXattrs(abs: string, xattrs: Record<string, Buffer>, skipped: string[]): void {
  for (const [k, v] of Object.entries(xattrs)) {
    try {
      setXattr(abs, k, v);
    } catch (err) {
      skipped.push(`xattr ${k} on ${abs}: ${(err as Error).message}`);
    }
  }
}

/**
 * Extract a layer tar into `dir` safely, with Docker's layer semantics:
 * - every name is cleaned; absolute names, `..` escapes, writes through a symlink (planted by
 *   this layer or a lower one), hardlinks to outside and escaping whiteouts are refused with
 *   UNSAFE_PATH naming the entry; so is an entry that would make the root a non-directory;
 * - `.wh.x` deletes `x` from lower content, `.wh..wh..opq` removes the lower children of its directory;
 * - a directory over a directory keeps its children and takes the new metadata; anything else replaces.
 * Owners, modes (setuid/setgid/sticky), xattrs and times are applied when running as root.
 */
export async function applyLayer(dir: string, tar: AsyncIterable<Uint8Array>, opts: ApplyLayerOptions = {}): Promise<ApplyLayerResult> {
  try {
    return await applyEntries(dir, tar, opts);
  } catch (err) {
    // a system call refused by what the tar asks (a name longer than the filesystem allows, a
    // full disk) is the layer's failure, with a code, not a crash
    if (err instanceof StrataError) throw err;
    return wrapError(err, opts.what ?? 'layer');
  }
}

async function applyEntries(dir: string, tar: AsyncIterable<Uint8Array>, opts: ApplyLayerOptions): Promise<ApplyLayerResult> {
  const what = opts.what ?? 'layer';
  const asRoot = opts.root ?? process.getuid?.() === 0;
  const mode = opts.whiteouts ?? 'apply';
  const root = realpathSync(dir);
  if (!lstatSync(root).isDirectory()) throw new StrataError('NOT_FOUND', `${dir} is not a directory`);
  const abs = (rel: string) => (rel === '.' ? root : join(root, rel));
  const result: ApplyLayerResult = { entries: 0, files: 0, bytes: 0, whiteouts: 0, skipped: [] };
  /** Paths this layer wrote: whiteouts and opaque dirs only remove what is not among them. */
  const unpacked = new Set<string>();
  /** Directories known to be real directories (not symlinks) in this extraction. */
  let safeDirs = new Set<string>(['.']);
  /** Directory metadata to apply at the end; a later entry for the same directory wins. */
  const dirMeta = new Map<string, TarEntry>();

  const forgetDirs = () => {
    safeDirs = new Set(['.']);
  };

  /**
   * Make sure every parent of `rel` is a real directory inside the root, creating missing ones.
   * A parent that lower content has as a symlink or another non-directory is replaced by a new
   * directory, as overlayfs shows this layer's implied directory over it (Docker's overlay2
   * applies each layer into a directory of its own); nothing is ever written through it. Only a
   * non-directory this same layer wrote is an error. Without `create`, a path below a missing or
   * non-directory parent is reported as absent (nothing there to delete or link to).
   */
  const ensureParents = (rel: string, name: string, create = true): boolean => {
    const parent = parentOf(rel);
    if (safeDirs.has(parent)) return true;
    const parts = parent.split('/');
    let cur = '.';
    for (const part of parts) {
      cur = joinRel(cur, part);
      if (safeDirs.has(cur)) continue;
      let st = lstatOrUndefined(abs(cur));
      if (st && !st.isDirectory()) {
        if (unpacked.has(cur)) {
          if (st.isSymbolicLink()) throw unsafe(what, name, `would be written through the symlink /${cur}`);
          if (!create) return false;
          throw unsafe(what, name, `has a parent /${cur} that is not a directory`);
        }
        if (!create) return false;
        remove(cur, st);
        st = undefined;
      }
      if (!st) {
        if (!create) return false;
        mkdirSync(abs(cur), 0o755);
        const below = opts.implicitDir?.(cur);
        if (below) dirMeta.set(abs(cur), { path: cur, type: 'dir', size: 0, ...below });
      }
      safeDirs.add(cur);
    }
    return true;
  };

  const remove = (rel: string, st: Stats) => {
    rmSync(abs(rel), { recursive: true, force: true });
    if (st.isDirectory()) {
      forgetDirs();
      // Never apply deferred metadata to a path that may now be a symlink.
      const p = abs(rel);
      for (const k of dirMeta.keys()) if (k === p || k.startsWith(`${p}/`)) dirMeta.delete(k);
    }
  };

  /** Remove the lower content below `rel` (a directory), keeping what this layer wrote. */
  const removeLower = (rel: string) => {
    for (const name of readdirSync(abs(rel))) {
      const child = joinRel(rel, name);
      if (unpacked.has(child)) {
        const st = lstatSync(abs(child));
        if (st.isDirectory()) removeLower(child);
        continue;
      }
      remove(child, lstatSync(abs(child)));
    }
  };

  const setMeta = (p: string, e: TarEntry, isLink: boolean) => {
    if (asRoot) {
      try {
        lchownSync(p, e.uid, e.gid);
      } catch (err) {
        result.skipped.push(`owner of ${e.path}: ${(err as Error).message}`);
      }
      if (e.xattrs && Object.keys(e.xattrs).length > 0) setXattrs(p, e.xattrs, result.skipped);
    }
    // chmod after chown: chown clears setuid/setgid.
    if (!isLink) chmodSync(p, e.mode & (asRoot ? 0o7777 : 0o1777));
    const atime = e.atime ?? e.mtime;
    if (isLink) lutimesSync(p, atime, e.mtime);
    else utimesSync(p, atime, e.mtime);
  };

  for await (const { entry: e, body } of readTar(tar, { what, clean: false })) {
    const name = e.name ?? e.path;
    if (name.startsWith('/')) throw unsafe(what, name, 'has an absolute name');
    let rel: string;
    try {
      rel = cleanPath(name);
    } catch {
      throw unsafe(what, name, 'escapes the root');
    }
    e.path = rel;
    result.entries++;

    const wo = mode === 'keep' ? undefined : parseWhiteout(rel);
    if (wo) {
      result.whiteouts++;
      if (wo.kind === 'meta') continue;
      if (wo.kind === 'whiteout') {
        const target = wo.target;
        const bname = baseOf(target);
        if (bname === '' || bname === '.' || bname === '..') throw unsafe(what, name, 'is a whiteout that escapes its directory');
        const parentExists = ensureParents(target, name, mode === 'overlay');
        const st = parentExists ? lstatOrUndefined(abs(target)) : undefined;
        if (mode === 'overlay') {
          if (st) remove(target, st);
          if (asRoot) {
            makeNode(abs(target), 'char', 0, 0);
          } else result.skipped.push(`whiteout ${target}`);
          unpacked.add(target);
        } else if (st && !unpacked.has(target)) {
          remove(target, st);
        }
        continue;
      }
      // opaque
      const d = wo.dir;
      const parentExists = d === '.' || ensureParents(d, name, mode === 'overlay');
      const st = parentExists ? lstatOrUndefined(abs(d)) : undefined;
      if (st?.isSymbolicLink() && unpacked.has(d)) throw unsafe(what, name, `would be applied through the symlink /${d}`);
      if (st && !st.isDirectory() && mode === 'apply' && !unpacked.has(d)) {
        // Lower content's non-directory here: this layer's opaque directory hides it (overlayfs).
        remove(d, st);
        mkdirSync(abs(d), 0o755);
        safeDirs.add(d);
        continue;
      }
      if (mode === 'overlay') {
        if (!st) {
          mkdirSync(abs(d), 0o755);
          safeDirs.add(d);
        }
        if (asRoot) setXattrs(abs(d), { 'trusted.overlay.opaque': Buffer.from('y') }, result.skipped);
      } else if (st?.isDirectory()) {
        removeLower(d);
      }
      continue;
    }

    if (rel === '.') {
      if (e.type !== 'dir') throw unsafe(what, name, `would change the type of the root to ${e.type}`);
      dirMeta.set(root, e);
      continue;
    }
    if (mode === 'apply' || mode === 'overlay') {
      // Docker refuses to store user files named .wh.*; they only ever mean whiteouts.
      if (baseOf(rel).startsWith(WHITEOUT_PREFIX)) continue;
    }

    ensureParents(rel, name);
    const p = abs(rel);
    let linkTarget: string | undefined;
    if (e.type === 'hardlink') {
      const ln = e.linkname ?? '';
      if (ln.startsWith('/')) throw unsafe(what, name, `is a hardlink to the absolute path ${JSON.stringify(ln)}`);
      try {
        linkTarget = cleanPath(ln);
      } catch {
        throw unsafe(what, name, `is a hardlink to ${JSON.stringify(ln)} outside the root`);
      }
      if (linkTarget === '.') throw unsafe(what, name, 'is a hardlink to the root');
      const tst = ensureParents(linkTarget, name, false) ? lstatOrUndefined(abs(linkTarget)) : undefined;
      if (!tst) throw new StrataError('INVALID_TAR', `${what}: entry ${JSON.stringify(name)} is a hardlink to missing ${JSON.stringify(ln)}`);
      if (tst.isDirectory()) throw unsafe(what, name, `is a hardlink to the directory ${JSON.stringify(ln)}`);
      if (linkTarget.startsWith(`${rel}/`)) {
        throw new StrataError('INVALID_TAR', `${what}: entry ${JSON.stringify(name)} is a hardlink to ${JSON.stringify(ln)}, which replacing it removes`);
      }
      if (linkTarget === rel) {
        // A hardlink to itself: nothing to do.
        unpacked.add(rel);
        continue;
      }
    }
    const existing = lstatOrUndefined(p);
    if (existing && !(existing.isDirectory() && e.type === 'dir')) remove(rel, existing);

    switch (e.type) {
      case 'dir':
        if (!existing || !existing.isDirectory()) mkdirSync(p, 0o700);
        safeDirs.add(rel);
        dirMeta.set(p, e);
        break;
      case 'file': {
        const fd = openSync(p, NOFOLLOW_CREATE, 0o600);
        try {
          for await (const c of body) {
            let off = 0;
            while (off < c.length) off += writeSync(fd, c, off, c.length - off);
            result.bytes += c.length;
          }
        } finally {
          closeSync(fd);
        }
        result.files++;
        setMeta(p, e, false);
        break;
      }
      case 'symlink':
        symlinkSync(e.linkname ?? '', p);
        setMeta(p, e, true);
        break;
      case 'hardlink':
        linkSync(abs(linkTarget!), p);
        break;
      case 'char':
      case 'block':
      case 'fifo': {
        if (e.type !== 'fifo' && !asRoot) {
          result.skipped.push(`device ${rel}`);
          break;
        }
        makeNode(p, e.type, e.devmajor ?? 0, e.devminor ?? 0);
        setMeta(p, e, false);
        break;
      }
    }
    unpacked.add(rel);
    opts.onEntry?.(e);
  }

  // Directory metadata last, deepest first: writing children changes a directory's mtime,
  // and a read-only directory must stay writable until its children are in.
  for (const [p, e] of [...dirMeta].reverse()) {
    if (lstatOrUndefined(p)?.isDirectory()) setMeta(p, e, false);
  }
  return result;
}
