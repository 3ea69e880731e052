import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, rmdirSync, unlinkSync, type Stats } from 'node:fs';
import { StrataError } from '@strata/errors';

// Path safety against concurrent renames (the CVE-2018-15664 class), without openat2: a
// directory is reached by opening each component from the one above with
// O_NOFOLLOW|O_DIRECTORY, and everything is then done through `/proc/self/fd/N/<name>`, so the
// kernel looks `name` up in that very directory whatever has been renamed or swapped for a
// symlink since. Only calls that never follow a final symlink take such a path (lstat, mkdir,
// symlink, link, unlink, rmdir, l*xattr, lchown, lutimes, open with O_NOFOLLOW or O_EXCL);
// chmod, chown and utimes go through a descriptor of the object itself. docs/PATH-SAFETY.md.

/** O_PATH (Linux; Node's `constants` lacks it): a descriptor that only names an object. */
export const O_PATH = 0o10000000;
const DIR_FLAGS = O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const NODE_FLAGS = O_PATH | constants.O_NOFOLLOW;

/** The path of descriptor `fd` itself, or of `name` inside the directory `fd` names. */
export function fdPath(fd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

let procChecked = false;
/** Open the trusted root of a walk (symlinks in `root` itself are the caller's and are followed). */
export function openRoot(root: string): number {
  let fd: number;
  try {
    fd = openSync(root, O_PATH | constants.O_DIRECTORY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new StrataError(code === 'ENOENT' || code === 'ENOTDIR' ? 'NOT_FOUND' : 'IO_ERROR', `${root} is not a directory`, { cause: err });
  }
  if (!procChecked) {
    if (!existsSync(fdPath(fd))) {
      closeSync(fd);
      throw new StrataError('UNSUPPORTED', '/proc is not mounted: strata reaches files through /proc/self/fd to stay inside a directory', { hint: 'mount proc on /proc' });
    }
    procChecked = true;
  }
  return fd;
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/**
 * The directory `name` inside the directory `parent` as an O_PATH descriptor, never through a
 * symlink; undefined when there is nothing there or it is not a directory (a symlink included).
 */
export function openDirAt(parent: number, name: string): number | undefined {
  try {
    return openSync(fdPath(parent, name), DIR_FLAGS);
  } catch (err) {
    const c = errno(err);
    if (c === 'ENOENT' || c === 'ENOTDIR' || c === 'ELOOP') return undefined;
    throw err;
  }
}

/**
 * A descriptor walk's step down: `visit` the directory `name` inside `parent` through its own
 * descriptor (closed afterwards). `what` names it in the error when it is no longer a directory
 * (renamed, or swapped for a symlink, since it was listed).
 */
export function* descendAt<T>(parent: number, name: string, what: string, visit: (fd: number) => Iterable<T>): Generator<T> {
  const fd = openDirAt(parent, name);
  if (fd === undefined) throw new StrataError('IO_ERROR', `${what}: stopped being a directory while it was read`);
  try {
    yield* visit(fd);
  } finally {
    closeSync(fd);
  }
}

/** An O_PATH descriptor of whatever `name` is in `parent` (a symlink itself, not its target); undefined when absent. */
export function openNodeAt(parent: number, name: string): number | undefined {
  try {
    return openSync(fdPath(parent, name), NODE_FLAGS);
  } catch (err) {
    if (errno(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** lstat of `name` in `parent`; undefined when absent. */
export function lstatAt(parent: number, name: string): Stats | undefined {
  return lstatSync(fdPath(parent, name), { throwIfNoEntry: false });
}

/**
 * Remove `name` from the directory `parent` and, if it is a directory, everything below it,
 * descending only through descriptors: a directory swapped for a symlink meanwhile is unlinked
 * (the link), never followed. Absent is fine.
 */
export function removeAt(parent: number, name: string, depth = 0): void {
  const p = fdPath(parent, name);
  // Bounded: each round sees a different object there, which only a concurrent writer makes.
  for (let round = 0; round < 8; round++) {
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (!st.isDirectory()) {
      try {
        unlinkSync(p);
        return;
      } catch (err) {
        const c = errno(err);
        if (c === 'ENOENT') return;
        if (c === 'EISDIR' || c === 'EPERM') continue; // became a directory meanwhile
        throw err;
      }
    }
    const fd = openDirAt(parent, name);
    if (fd === undefined) continue;
    try {
      if (depth > 4096) throw new StrataError('UNSAFE_PATH', 'a directory tree deeper than 4096 levels');
      for (const child of readdirSync(fdPath(fd))) removeAt(fd, child, depth + 1);
    } finally {
      closeSync(fd);
    }
    try {
      rmdirSync(p);
      return;
    } catch (err) {
      const c = errno(err);
      if (c === 'ENOENT') return;
      if (c === 'ENOTDIR' || c === 'ENOTEMPTY' || c === 'EEXIST') continue; // swapped or refilled meanwhile
      throw err;
    }
  }
  throw new StrataError('IO_ERROR', `cannot remove ${name}: it keeps changing`);
}

/** What `resolveBeneath` found. */
export interface Beneath {
  /** O_PATH descriptor of the object (close it); a directory is a real one, a symlink only when `follow` is false. */
  fd: number;
  stat: Stats;
  /** The path inside the root that was reached, clean, `''` for the root. */
  path: string;
}

/**
 * Resolve `rel` inside the directory `root` the way a chroot would: symlinks in every component
 * (and the last one when `follow`) are followed, an absolute link target or `..` starts over at
 * / stops at the root, so nothing above it is ever reached, whatever is renamed meanwhile.
 * Undefined when a component is missing.
 */
export function resolveBeneath(rootFd: number, rel: string, o: { follow?: boolean } = {}): Beneath | undefined {
  const follow = o.follow ?? true;
  let todo = rel.split('/').filter((s) => s !== '' && s !== '.');
  /** Descriptors of the directories from the root (not closed here) down to the current one. */
  const stack: Array<{ fd: number; name: string }> = [];
  const cur = () => (stack.length ? stack[stack.length - 1].fd : rootFd);
  const closeAll = () => {
    for (const s of stack) closeSync(s.fd);
    stack.length = 0;
  };
  let hops = 0;
  try {
    while (todo.length) {
      const [part, ...rest] = todo;
      todo = rest;
      if (part === '..') {
        const top = stack.pop();
        if (top) closeSync(top.fd);
        continue;
      }
      const last = todo.length === 0;
      const fd = openNodeAt(cur(), part);
      if (fd === undefined) return undefined;
      const st = fstatSync(fd);
      if (st.isSymbolicLink() && (!last || follow)) {
        let target: string;
        try {
          target = readlinkSync(fdPath(cur(), part));
        } catch (err) {
          // EINVAL: no longer a symlink (swapped since it was opened)
          if (errno(err) === 'EINVAL') throw new StrataError('IO_ERROR', `${rel}: changed while it was resolved`);
          throw err;
        } finally {
          closeSync(fd);
        }
        if (++hops > 40) throw new StrataError('UNSAFE_PATH', `${rel}: too many levels of symbolic links`);
        if (target.startsWith('/')) closeAll();
        todo = [...target.split('/').filter((s) => s !== '' && s !== '.'), ...todo];
        continue;
      }
      if (!last && !st.isDirectory()) {
        closeSync(fd);
        return undefined;
      }
      if (last) {
        const path = [...stack.map((s) => s.name), part].join('/');
        return { fd, stat: st, path };
      }
      stack.push({ fd, name: part });
    }
    // The root itself, or `..` back to it: a descriptor of its own.
    const fd = openSync(fdPath(cur()), DIR_FLAGS & ~constants.O_NOFOLLOW);
    return { fd, stat: fstatSync(fd), path: stack.map((s) => s.name).join('/') };
  } finally {
    closeAll();
  }
}

/**
 * The directory that holds `rel` (clean, relative) below the directory `rootFd`, as an O_PATH
 * descriptor reached with no symlink followed; undefined when a component is missing or is not
 * a directory. The caller closes it unless it is `rootFd` (a top-level `rel`).
 */
export function openParentBeneath(rootFd: number, rel: string): number | undefined {
  const parts = rel.split('/');
  let fd = rootFd;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = openDirAt(fd, parts[i]);
    if (fd !== rootFd) closeSync(fd);
    if (next === undefined) return undefined;
    fd = next;
  }
  return fd;
}

/** Which file an open must reach: the `dev:ino` a walk saw (`lstat`). */
export interface FileIdentity {
  dev: number;
  ino: number;
}

/**
 * Open the regular file at `path` for reading, and only if it is the inode `id`: never through a
 * final symlink (ELOOP: UNSAFE_PATH), never blocking on a FIFO swapped in, and another inode there
 * (the file replaced since it was seen) is UNSAFE_PATH. `what` names it in the errors.
 */
export function openIdentified(path: string, id: FileIdentity, what: string): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if (errno(err) === 'ELOOP') throw new StrataError('UNSAFE_PATH', `${what}: became a symlink while it was read`);
    // the system's words without the path opened (it may be a /proc/self/fd one)
    const said = String((err as Error).message).split(', ')[0];
    throw new StrataError(errno(err) === 'ENOSPC' ? 'NO_SPACE' : 'IO_ERROR', `cannot read ${what}: ${said}`, { cause: err });
  }
  const st = fstatSync(fd);
  if (st.ino !== id.ino || st.dev !== id.dev) {
    closeSync(fd);
    throw new StrataError('UNSAFE_PATH', `${what}: is not the file it was when the tree was read (it changed meanwhile)`);
  }
  return fd;
}

/** Reads files of a tree a walk listed, staying inside it (`beneathReader`). */
export interface BeneathReader {
  /**
   * A read descriptor of the file at `rel` (clean, relative), reached with no symlink followed
   * below the root, and only if it is the inode `id` the walk saw (the caller closes it). `what`
   * names it in errors (default `rel`).
   */
  openFile(rel: string, id: FileIdentity, what?: string): number;
  /** lstat of `rel` reached the same way; undefined when it (or a directory on its path) is not there. */
  lstat(rel: string): Stats | undefined;
  /** Close the descriptors it keeps. It can be used again afterwards (it reopens what it needs). */
  close(): void;
}

/**
 * A reader for the files of the directory `root` that a walk by path listed (the build context):
 * each directory on the way is opened from the one above with O_NOFOLLOW, so a directory swapped
 * for a symlink meanwhile is not followed, and a file is opened only if it is the inode the walk
 * saw. The directories of the last path stay open (one per level): files come in walk order, so
 * most opens reuse all of them.
 */
export function beneathReader(root: string): BeneathReader {
  let rootFd: number | undefined;
  /** The open directories from the root down, by name. */
  const chain: Array<{ name: string; fd: number }> = [];
  const trim = (keep: number) => {
    while (chain.length > keep) closeSync(chain.pop()!.fd);
  };
  /** The directory that holds `rel` and the last name, or undefined when a directory on the way is missing or not one. */
  const parentOf = (rel: string): { dir: number; name: string } | undefined => {
    const parts = rel.split('/');
    for (const p of parts) if (p === '' || p === '.' || p === '..') throw new StrataError('UNSAFE_PATH', `${JSON.stringify(rel)} is not a clean relative path`);
    rootFd ??= openRoot(root);
    const dirs = parts.length - 1;
    let k = 0;
    while (k < chain.length && k < dirs && chain[k].name === parts[k]) k++;
    trim(k);
    for (; k < dirs; k++) {
      const fd = openDirAt(k === 0 ? rootFd : chain[k - 1].fd, parts[k]);
      if (fd === undefined) return undefined;
      chain.push({ name: parts[k], fd });
    }
    return { dir: dirs === 0 ? rootFd : chain[dirs - 1].fd, name: parts[dirs] };
  };
  return {
    openFile(rel, id, what = rel) {
      const at = parentOf(rel);
      if (at === undefined) throw new StrataError('UNSAFE_PATH', `${what}: a directory on its path stopped being a directory while it was read`);
      return openIdentified(fdPath(at.dir, at.name), id, what);
    },
    lstat(rel) {
      const at = parentOf(rel);
      return at === undefined ? undefined : lstatAt(at.dir, at.name);
    },
    close() {
      trim(0);
      if (rootFd !== undefined) closeSync(rootFd);
      rootFd = undefined;
    },
  };
}
