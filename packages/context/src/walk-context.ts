import { accessSync, constants, lstatSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { goClean, type Matcher, type ParentMatch } from '@strata/dockerignore';
import { StrataError, wrapError } from '@strata/errors';
import { readDirTyped } from './stat-row';
import type { WalkCache } from './walk-cache';

export type EntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char' | 'block';

/** One entry of the build context, with its lstat metadata. */
export interface ContextEntry {
  /** Relative to the context, `/`-separated, no leading `./`. */
  path: string;
  type: EntryType;
  /** Permission and special bits (`mode & 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes for files, 0 otherwise. */
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  /** Symlink target, as stored. */
  linkname?: string;
  ino: number;
  dev: number;
  nlink: number;
}

/** Just the name and kind: what the fast listing needs (no lstat). */
export interface ContextName {
  path: string;
  type: EntryType;
}

export interface WalkOptions {
  /** The `.dockerignore` rules (`loadIgnore`); none: everything is included. */
  matcher?: Matcher;
  /**
   * Walk only this path of the context (relative; e.g. a COPY source directory): entries keep their
   * context-relative paths, ancestors' `.dockerignore` results apply, and the entry itself comes first.
   * A missing path yields nothing.
   */
  under?: string;
  /** Fail (as Docker does when it sends the context) on a file this process cannot read. */
  checkReadable?: boolean;
  /** Directory listings of the last walk, reused where a directory did not change (`openWalkCache`). */
  cache?: WalkCache;
}

// Directories sort as `name/`: then the depth-first order is exactly the sorted order of the
// listed paths (directories with a trailing `/`), as `tar -t | sort` shows a context.
function sortKey(name: string, type: EntryType): string {
  return type === 'dir' ? `${name}/` : name;
}

/** Node decodes file names as UTF-8; a name that is not valid UTF-8 comes back altered and cannot be opened. */
function checkDecodable(abs: string, rel: string): void {
  try {
    lstatSync(abs);
  } catch {
    throw new StrataError('UNSUPPORTED', `context entry ${JSON.stringify(rel)} has a file name that is not valid UTF-8`, { hint: 'rename it, or exclude it in .dockerignore with a wildcard' });
  }
}

/** The entries of a directory with their kinds, in walk order. */
function readDir(abs: string, rel: string): { names: string[]; types: EntryType[] } {
  let listed;
  try {
    listed = readDirTyped(abs);
  } catch (err) {
    return wrapError(err, `cannot read context directory ${rel || '.'}`);
  }
  const { names } = listed;
  const types = listed.types as EntryType[];
  for (let i = 0; i < names.length; i++) {
    // a file system that does not report kinds in readdir: ask lstat
    if (types[i] === undefined) types[i] = kindOf(`${abs}/${names[i]}`, rel === '' ? names[i] : `${rel}/${names[i]}`);
  }
  // Most directories (the leaves) hold one kind, not directories: their names sort as they are.
  let oneKind = types.length === 0 || types[0] !== 'dir';
  for (let i = 1; oneKind && i < types.length; i++) oneKind = types[i] === types[0];
  if (oneKind) return { names: names.sort(), types };
  const order = names.map((_, i) => i);
  const keys = names.map((n, i) => sortKey(n, types[i]));
  order.sort((x, y) => (keys[x] < keys[y] ? -1 : keys[x] > keys[y] ? 1 : 0));
  return { names: order.map((i) => names[i]), types: order.map((i) => types[i]) };
}

function kindOf(abs: string, rel: string): EntryType {
  try {
    return typeOfMode(lstatSync(abs).mode);
  } catch (err) {
    return wrapError(err, `cannot stat context entry ${rel}`);
  }
}

/**
 * The walk every context operation shares: depth-first, children sorted by name (directories as
 * `name/`, so the whole listing is sorted),
 * `.dockerignore` applied incrementally (parent results passed down), excluded directories
 * skipped unless an exception pattern starts with their path (Docker's rule); such a directory is
 * still listed, as Docker sends it. Calls `visit` with the relative path, the kind, and the
 * absolute directory and name of each included entry (a callback, not a generator: this loop runs
 * once per file of the context, and is most of `context ls` and of an unchanged rebuild).
 */
export function walkNames(contextDir: string, options: WalkOptions, visit: (rel: string, type: EntryType, dirAbs: string, name: string) => void): void {
  const root = resolve(contextDir);
  const m = options.matcher;
  const filter = m !== undefined && m.patterns.length > 0 ? m : undefined;
  // root reads every file regardless of its mode (CAP_DAC_OVERRIDE): the access(2) check is moot
  const checkReadable = options.checkReadable === true && process.getuid?.() !== 0;
  try {
    if (!statSync(root).isDirectory()) throw new StrataError('NOT_FOUND', `context ${contextDir} is not a directory`);
  } catch (err) {
    if (err instanceof StrataError) throw err;
    wrapError(err, `context ${contextDir}`);
  }
  const cache = options.cache;
  const walkDir = (abs: string, rel: string, info: ParentMatch | undefined): void => {
    const { names, types } = cache !== undefined ? cache.list(abs, rel, () => readDir(abs, rel)) : readDir(abs, rel);
    const prefix = rel === '' ? '' : `${rel}/`;
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const childRel = prefix + name;
      const type = types[i];
      let childInfo: ParentMatch | undefined;
      if (filter !== undefined) {
        if (type === 'dir') {
          const r = filter.matchInDir(childRel, info);
          childInfo = r.info;
          if (r.excluded && filter.canSkipDir(childRel)) continue;
        } else if (filter.excludedInDir(childRel, info)) continue;
      }
      if (name.includes('\uFFFD')) checkDecodable(`${abs}/${name}`, childRel);
      if (checkReadable && type === 'file') {
        try {
          accessSync(`${abs}/${name}`, constants.R_OK);
        } catch (err) {
          wrapError(err, `cannot read context file ${childRel}`);
        }
      }
      visit(childRel, type, abs, name);
      if (type === 'dir') walkDir(`${abs}/${name}`, childRel, childInfo);
    }
  };
  const under = options.under === undefined ? '' : goClean(options.under.replace(/^\/+/, ''));
  if (under === '..' || under.startsWith('../')) throw new StrataError('UNSAFE_PATH', `${options.under} is outside the context`);
  if (under === '' || under === '.') {
    walkDir(root, '', undefined);
    return;
  }
  // Start below the root: fold the ancestors' match results in, and stop where the walk from the
  // root would have stopped (an excluded, prunable ancestor).
  const parts = under.split('/');
  let info: ParentMatch | undefined;
  for (let i = 0; i < parts.length; i++) {
    const rel = parts.slice(0, i + 1).join('/');
    const abs = `${root}/${rel}`;
    let st;
    try {
      st = lstatSync(abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      return wrapError(err, `context entry ${rel}`);
    }
    const isDir = st.isDirectory();
    if (i < parts.length - 1 && !isDir) return; // a symlink or file in the middle: not a directory of the context
    if (filter !== undefined) {
      const r = filter.matchInDir(rel, info);
      info = r.info;
      if (r.excluded && (!isDir || filter.canSkipDir(rel))) return;
    }
    if (i === parts.length - 1) {
      const type = typeOfMode(st.mode);
      const slash = abs.lastIndexOf('/');
      visit(rel, type, abs.slice(0, slash), abs.slice(slash + 1));
      if (isDir) walkDir(abs, rel, info);
    }
  }
}

/** The included paths and kinds only, without an lstat each (the fast path of `context ls`), in walk order. */
export function visitContextNames(contextDir: string, options: WalkOptions, visit: (path: string, type: EntryType) => void): void {
  walkNames(contextDir, options, visit);
}

const S_IFMT = 0o170000;

/** The entry type of an lstat mode. */
export function typeOfMode(mode: number): EntryType {
  switch (mode & S_IFMT) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'dir';
    case 0o120000:
      return 'symlink';
    case 0o010000:
      return 'fifo';
    case 0o140000:
      return 'socket';
    case 0o020000:
      return 'char';
    case 0o060000:
      return 'block';
    default:
      return 'file';
  }
}

/** The included entries of a build context with their lstat metadata, in walk order. */
export function visitContext(contextDir: string, options: WalkOptions, visit: (entry: ContextEntry) => void): void {
  walkNames(contextDir, options, (path, _type, dirAbs, name) => {
    const abs = `${dirAbs}/${name}`;
    let st: Stats;
    try {
      st = lstatSync(abs);
    } catch (err) {
      return wrapError(err, `cannot stat context entry ${path}`);
    }
    const type = typeOfMode(st.mode);
    const entry: ContextEntry = {
      path, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: type === 'file' ? st.size : 0,
      mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, dev: st.dev, nlink: st.nlink,
    };
    if (type === 'symlink') entry.linkname = readlinkSync(abs);
    visit(entry);
  });
}

/** All included entries, with their lstat metadata. */
export function listContext(contextDir: string, options: WalkOptions = {}): ContextEntry[] {
  const out: ContextEntry[] = [];
  visitContext(contextDir, options, (e) => out.push(e));
  return out;
}

/** All included paths and kinds (no lstat). */
export function listContextNames(contextDir: string, options: WalkOptions = {}): ContextName[] {
  const out: ContextName[] = [];
  visitContextNames(contextDir, options, (path, type) => out.push({ path, type }));
  return out;
}
