import {
  chmodSync, chownSync, closeSync, constants, fchmodSync, fchownSync, fstatSync, futimesSync, linkSync, lchownSync, lutimesSync,
  mkdirSync, openSync, readdirSync, realpathSync, symlinkSync, utimesSync, writeSync, type Stats,
} from 'node:fs';
import { StrataError, wrapError } from '@strata/errors';
import { baseOf, cleanPath, joinRel, parentOf } from './clean-path';
import type { TarEntry } from './entry';
import { readTar } from './read-tar';
import { parseWhiteout, WHITEOUT_PREFIX } from './whiteout';
import { setXattr } from './xattrs';
import { makeNode } from './mknod';
import { fdPath, lstatAt, openDirAt, openNodeAt, openRoot, removeAt } from './beneath';

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
/** Directory descriptors kept open between entries; a tar lists a directory's entries together. */
const MAX_DIR_FDS = 256;

function unsafe(what: string, name: string, why: string): StrataError {
  return new StrataError('UNSAFE_PATH', `${what}: entry ${JSON.stringify(name)} ${why}`);
}

/** Set extended attributes; each one that cannot be set (no privilege, a filesystem without them) is reported. */
function setXattrs(path: string, shown: string, xattrs: Record<string, Buffer>, skipped: string[]): void {
  for (const [k, v] of Object.entries(xattrs)) {
    try {
      setXattr(path, k, v);
    } catch (err) {
      skipped.push(`xattr ${k} on /${shown}: ${(err as Error).message}`);
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
 * Every directory is reached from `dir` through descriptors (./beneath.ts), so a concurrent
 * process swapping a directory for a symlink cannot steer a write or a removal outside `dir`.
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
  const rootFd = openRoot(root);
  const result: ApplyLayerResult = { entries: 0, files: 0, bytes: 0, whiteouts: 0, skipped: [] };
  /** Paths this layer wrote: whiteouts and opaque dirs only remove what is not among them. */
  const unpacked = new Set<string>();
  /**
   * O_PATH descriptors of directories of this extraction, by path ('.' is the root's, never in
   * here). Each one is a real directory, reached without following a symlink; a rename by someone
   * else moves it, but it stays the directory that was checked.
   */
  const dirFds = new Map<string, number>();
  /** Directory metadata to apply at the end, by path; a later entry for the same directory wins. */
  const dirMeta = new Map<string, TarEntry>();

  const remember = (rel: string, fd: number) => {
    const old = dirFds.get(rel);
    if (old !== undefined) closeSync(old);
    dirFds.set(rel, fd);
  };
  /** Between entries only (never while a descriptor handed out is in use): close the oldest. */
  const trimDirFds = () => {
    if (dirFds.size <= MAX_DIR_FDS) return;
    for (const [k, fd] of dirFds) {
      closeSync(fd);
      dirFds.delete(k);
      if (dirFds.size <= MAX_DIR_FDS / 2) break;
    }
  };
  const forgetBelow = (rel: string) => {
    const prefix = `${rel}/`;
    for (const [k, fd] of dirFds) {
      if (k === rel || k.startsWith(prefix)) {
        closeSync(fd);
        dirFds.delete(k);
      }
    }
    for (const k of dirMeta.keys()) if (k === rel || k.startsWith(prefix)) dirMeta.delete(k);
  };

  /** Remove `rel` (whose parent directory is `pfd`) and anything below it, through descriptors only. */
  const remove = (pfd: number, rel: string, st: Stats) => {
    removeAt(pfd, baseOf(rel));
    if (st.isDirectory()) forgetBelow(rel);
  };

  /**
   * The descriptor of the directory that holds `rel`, making every parent a real directory inside
   * the root, creating missing ones. A parent that lower content has as a symlink or another
   * non-directory is replaced by a new directory, as overlayfs shows this layer's implied directory
   * over it (Docker's overlay2 applies each layer into a directory of its own); nothing is ever
   * written through it. Only a non-directory this same layer wrote is an error. Without `create`,
   * a path below a missing or non-directory parent is reported as absent (undefined: nothing there
   * to delete or link to).
   */
  const ensureParents = (rel: string, name: string, create = true): number | undefined => {
    const parent = parentOf(rel);
    if (parent === '.') return rootFd;
    const hit = dirFds.get(parent);
    if (hit !== undefined) return hit;
    const parts = parent.split('/');
    // Start below the deepest directory already open.
    let i = parts.length - 1;
    let fd = rootFd;
    let cur = '.';
    for (; i > 0; i--) {
      const k = parts.slice(0, i).join('/');
      const f = dirFds.get(k);
      if (f !== undefined) {
        fd = f;
        cur = k;
        break;
      }
    }
    for (let j = cur === '.' ? 0 : i; j < parts.length; j++) {
      const part = parts[j];
      cur = joinRel(cur, part);
      let next = openDirAt(fd, part);
      if (next === undefined) {
        const st = lstatAt(fd, part);
        if (st && !st.isDirectory()) {
          if (unpacked.has(cur)) {
            if (st.isSymbolicLink()) throw unsafe(what, name, `would be written through the symlink /${cur}`);
            if (!create) return undefined;
            throw unsafe(what, name, `has a parent /${cur} that is not a directory`);
          }
          if (!create) return undefined;
          remove(fd, cur, st);
        }
        if (!create) return undefined;
        mkdirSync(fdPath(fd, part), 0o755);
        const below = opts.implicitDir?.(cur);
        if (below) dirMeta.set(cur, { path: cur, type: 'dir', size: 0, ...below });
        next = openDirAt(fd, part);
        if (next === undefined) throw unsafe(what, name, `has a parent /${cur} that was replaced while the layer was applied`);
      }
      remember(cur, next);
      fd = next;
    }
    return fd;
  };

  /** The descriptor of the directory `rel` (the root for '.'), or undefined when it is not one now. */
  const dirAt = (rel: string): number | undefined => {
    if (rel === '.') return rootFd;
    const hit = dirFds.get(rel);
    if (hit !== undefined) return hit;
    const pfd = ensureParents(rel, rel, false);
    const fd = pfd === undefined ? undefined : openDirAt(pfd, baseOf(rel));
    if (fd !== undefined) remember(rel, fd);
    return fd;
  };

  /** Remove the lower content below `rel` (a directory), keeping what this layer wrote. */
  const removeLower = (rel: string, dfd: number) => {
    for (const name of readdirSync(fdPath(dfd))) {
      const child = joinRel(rel, name);
      const st = lstatAt(dfd, name);
      if (!st) continue;
      if (unpacked.has(child)) {
        if (st.isDirectory()) {
          const cfd = openDirAt(dfd, name);
          if (cfd === undefined) continue;
          remember(child, cfd);
          removeLower(child, cfd);
        }
        continue;
      }
      remove(dfd, child, st);
    }
  };

  const setOwnerAndXattrs = (e: TarEntry, chown: () => void, xattrPath: string) => {
    if (!asRoot) return;
    try {
      chown();
    } catch (err) {
      result.skipped.push(`owner of ${e.path}: ${(err as Error).message}`);
    }
    if (e.xattrs && Object.keys(e.xattrs).length > 0) setXattrs(xattrPath, e.path, e.xattrs, result.skipped);
  };
  const permBits = (e: TarEntry) => e.mode & (asRoot ? 0o7777 : 0o1777);

  /**
   * Metadata of what `self` (an O_PATH descriptor) names, through /proc/self/fd/N, which reaches
   * that very inode: chmod and utimes follow it there and never further. xattrs through the parent
   * (`at`), as l*xattr calls on the magic link itself are refused.
   */
  const setMetaOf = (self: number, at: string, e: TarEntry) => {
    const p = fdPath(self);
    setOwnerAndXattrs(e, () => chownSync(p, e.uid, e.gid), at);
    // chmod after chown: chown clears setuid/setgid.
    chmodSync(p, permBits(e));
    utimesSync(p, e.atime ?? e.mtime, e.mtime);
  };

  try {
    for await (const { entry: e, body } of readTar(tar, { what, clean: false })) {
      trimDirFds();
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
          const pfd = ensureParents(target, name, mode === 'overlay');
          const st = pfd === undefined ? undefined : lstatAt(pfd, bname);
          if (mode === 'overlay') {
            if (st) remove(pfd!, target, st);
            if (asRoot) {
              makeNode(pfd!, bname, 'char', 0, 0);
            } else result.skipped.push(`whiteout ${target}`);
            unpacked.add(target);
          } else if (st && !unpacked.has(target)) {
            remove(pfd!, target, st);
          }
          continue;
        }
        // opaque
        const d = wo.dir;
        const pfd = d === '.' ? rootFd : ensureParents(d, name, mode === 'overlay');
        const st = d === '.' ? fstatSync(rootFd) : pfd === undefined ? undefined : lstatAt(pfd, baseOf(d));
        if (st?.isSymbolicLink() && unpacked.has(d)) throw unsafe(what, name, `would be applied through the symlink /${d}`);
        if (st && !st.isDirectory() && mode === 'apply' && !unpacked.has(d)) {
          // Lower content's non-directory here: this layer's opaque directory hides it (overlayfs).
          remove(pfd!, d, st);
          mkdirSync(fdPath(pfd!, baseOf(d)), 0o755);
          continue;
        }
        if (mode === 'overlay') {
          if (!st) mkdirSync(fdPath(pfd!, baseOf(d)), 0o755);
          if (asRoot) setXattrs(d === '.' ? root : fdPath(pfd!, baseOf(d)), d, { 'trusted.overlay.opaque': Buffer.from('y') }, result.skipped);
        } else if (st?.isDirectory()) {
          const dfd = dirAt(d);
          if (dfd !== undefined) removeLower(d, dfd);
        }
        continue;
      }

      if (rel === '.') {
        if (e.type !== 'dir') throw unsafe(what, name, `would change the type of the root to ${e.type}`);
        dirMeta.set('.', e);
        continue;
      }
      if (mode === 'apply' || mode === 'overlay') {
        // Docker refuses to store user files named .wh.*; they only ever mean whiteouts.
        if (baseOf(rel).startsWith(WHITEOUT_PREFIX)) continue;
      }

      const pfd = ensureParents(rel, name)!;
      const base = baseOf(rel);
      const p = fdPath(pfd, base);
      let linkFrom: string | undefined;
      if (e.type === 'hardlink') {
        const ln = e.linkname ?? '';
        if (ln.startsWith('/')) throw unsafe(what, name, `is a hardlink to the absolute path ${JSON.stringify(ln)}`);
        let linkTarget: string;
        try {
          linkTarget = cleanPath(ln);
        } catch {
          throw unsafe(what, name, `is a hardlink to ${JSON.stringify(ln)} outside the root`);
        }
        if (linkTarget === '.') throw unsafe(what, name, 'is a hardlink to the root');
        const tpfd = ensureParents(linkTarget, name, false);
        const tst = tpfd === undefined ? undefined : lstatAt(tpfd, baseOf(linkTarget));
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
        // link(2) does not follow a symlink named as its source: a symlink swapped in is linked itself.
        linkFrom = fdPath(tpfd!, baseOf(linkTarget));
      }
      /** Make the entry with `make`; what is in the way (lower content, a racer's symlink) is removed first, never followed. */
      const replacing = (make: () => void) => {
        try {
          make();
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const st = lstatAt(pfd, base);
        if (st) remove(pfd, rel, st);
        make();
      };

      switch (e.type) {
        case 'dir': {
          let dfd = openDirAt(pfd, base);
          if (dfd === undefined) {
            // Nothing there, or not a directory: a directory over a directory keeps its children.
            replacing(() => mkdirSync(p, 0o700));
            dfd = openDirAt(pfd, base);
            if (dfd === undefined) throw unsafe(what, name, 'was replaced while the layer was applied');
          }
          remember(rel, dfd);
          dirMeta.set(rel, e);
          break;
        }
        case 'file': {
          let fd = -1;
          replacing(() => (fd = openSync(p, NOFOLLOW_CREATE, 0o600)));
          try {
            for await (const c of body) {
              let off = 0;
              while (off < c.length) off += writeSync(fd, c, off, c.length - off);
              result.bytes += c.length;
            }
            setOwnerAndXattrs(e, () => fchownSync(fd, e.uid, e.gid), p);
            fchmodSync(fd, permBits(e));
            futimesSync(fd, e.atime ?? e.mtime, e.mtime);
          } finally {
            closeSync(fd);
          }
          result.files++;
          break;
        }
        case 'symlink':
          // symlink(2) refuses an empty target: the tar's fault, not the system's
          if (!e.linkname) throw new StrataError('INVALID_TAR', `${what}: entry ${JSON.stringify(name)} is a symlink to nothing`);
          replacing(() => symlinkSync(e.linkname!, p));
          // l* calls: the link itself, whatever it points to.
          setOwnerAndXattrs(e, () => lchownSync(p, e.uid, e.gid), p);
          lutimesSync(p, e.atime ?? e.mtime, e.mtime);
          break;
        case 'hardlink':
          replacing(() => linkSync(linkFrom!, p));
          break;
        case 'char':
        case 'block':
        case 'fifo': {
          if (e.type !== 'fifo' && !asRoot) {
            result.skipped.push(`device ${rel}`);
            break;
          }
          const st = lstatAt(pfd, base);
          if (st) remove(pfd, rel, st);
          makeNode(pfd, base, e.type, e.devmajor ?? 0, e.devminor ?? 0);
          const nfd = openNodeAt(pfd, base);
          if (nfd === undefined) throw unsafe(what, name, 'was removed while the layer was applied');
          try {
            // A symlink swapped in meanwhile keeps its own metadata.
            if (!fstatSync(nfd).isSymbolicLink()) setMetaOf(nfd, p, e);
          } finally {
            closeSync(nfd);
          }
          break;
        }
      }
      unpacked.add(rel);
      opts.onEntry?.(e);
    }

    // Directory metadata last, deepest first: writing children changes a directory's mtime,
    // and a read-only directory must stay writable until its children are in.
    for (const [rel, e] of [...dirMeta].reverse()) {
      const dfd = dirAt(rel);
      if (dfd === undefined) continue;
      setMetaOf(dfd, rel === '.' ? root : fdPath(ensureParents(rel, rel, false)!, baseOf(rel)), e);
    }
    return result;
  } finally {
    for (const fd of dirFds.values()) closeSync(fd);
    closeSync(rootFd);
  }
}
