import { posix } from 'node:path';
import { StrataError } from '@strata/errors';
import type { Matcher } from '@strata/dockerignore';
import { comparePaths, type TarWriteEntry } from '@strata/tar';
import { applyChmod, type Owner } from './chown';
import { goPathMatch, hasGoWildcard } from '@strata/gotext';
import type { SourceNode, SourceTree } from './source-tree';

/** One source word of a COPY and what it matched. */
export interface SourceMatch {
  /** The matched node (a heredoc becomes an in-memory file). */
  node: SourceNode;
  /** The node and everything below it that is copied (after `--exclude`). */
  nodes: SourceNode[];
  /** In-memory content: heredoc text (written as UTF-8). */
  data?: string;
  /** `ADD <url>`: the digest of the downloaded file (`node.sourcePath`, a temp file); never unpacked. */
  downloaded?: string;
  /**
   * `ADD --checksum=sha256:… <url>`: the download, put off until the layer is made. The digest is
   * known, so a cached step needs no network (as BuildKit); this fills in the node's size and mtime.
   */
  fetch?: () => Promise<void>;
  /** `--parents`: the leading part of the source path that is not kept (before a `/./` pivot). */
  base?: string;
}

/** Clean a source path relative to its root (`/a/../b/` → `b`, `.` → ``); never above the root. */
export function cleanSource(src: string): string {
  const p = posix.normalize(`/${src}`).replace(/\/+$/, '');
  return p === '' || p === '/' ? '' : p.slice(1);
}

/**
 * Find what each source word names: exact paths or Go-style wildcards; a missing source is an
 * error (BuildKit: `"/x" not found`). `--exclude` patterns drop matches and nodes below them.
 * With `parents`, a source may hold a `/./` pivot (`src/./lib/*.h`): what is before it is matched
 * but not kept (BuildKit copies from the pivot with the rest as include pattern).
 */
export function matchSources(tree: SourceTree, sources: string[], exclude: Matcher | undefined, what: string, parents = false): SourceMatch[] {
  const out: SourceMatch[] = [];
  const excluded = (path: string) => exclude !== undefined && path !== '' && exclude.matches(path);
  for (const raw of sources) {
    const src = cleanSource(raw);
    const pivot = parents ? raw.indexOf('/./') : -1;
    const base = pivot >= 0 ? cleanSource(raw.slice(0, pivot)) : undefined;
    let nodes: SourceNode[];
    if (hasGoWildcard(src)) {
      // BuildKit matches with Go's filepath.Match: a malformed pattern is an error.
      if (goPathMatch(src, '') === 'bad' || goPathMatch(src, src) === 'bad') throw new StrataError('DOCKERFILE_SYNTAX', `${what}: syntax error in pattern ${JSON.stringify(src)}`);
      nodes = tree.all().filter((n) => goPathMatch(src, n.path) === true);
      if (nodes.length === 0)
        throw new StrataError('COPY_SOURCE_NOT_FOUND', `${what}: no source files were specified: ${JSON.stringify(raw)} matched nothing`);
    } else {
      const n = tree.stat(src);
      if (!n) throw new StrataError('COPY_SOURCE_NOT_FOUND', `${what}: ${JSON.stringify(`/${src}`)} not found`);
      nodes = [followTop(tree, n)];
    }
    for (const n of nodes) {
      if (excluded(n.path)) continue;
      // `matches` also answers for paths below an excluded directory (parents are matched too).
      const below = n.type !== 'dir' ? [] : exclude === undefined ? tree.below(n.path) : tree.below(n.path).filter((c) => !excluded(relTo(n.path, c.path)));
      out.push({ node: n, nodes: [n].concat(below), ...(base ? { base } : {}) });
    }
  }
  return out;
}

function relTo(dir: string, path: string): string {
  return dir === '' ? path : path.slice(dir.length + 1);
}

/** A top-level source symlink is followed (BuildKit copies what it points at, under the link's name). */
function followTop(tree: SourceTree, n: SourceNode): SourceNode {
  let cur = n;
  for (let i = 0; i < 40 && cur.type === 'symlink' && cur.linkname !== undefined; i++) {
    const target = cur.linkname.startsWith('/') ? cleanSource(cur.linkname) : cleanSource(posix.join(posix.dirname(cur.path), cur.linkname));
    const t = tree.stat(target);
    // BuildKit follows the link inside the source root and fails when that leads nowhere.
    if (!t) throw new StrataError('COPY_SOURCE_NOT_FOUND', `${JSON.stringify(`/${target}`)} not found (the target of symlink ${JSON.stringify(n.path)})`);
    cur = t;
  }
  if (cur === n) return n;
  // named after the link, everything else the target's (field by field: context nodes read theirs from getters)
  return {
    path: n.path,
    type: cur.type,
    mode: cur.mode,
    uid: cur.uid,
    gid: cur.gid,
    size: cur.size,
    mtime: cur.mtime,
    linkname: cur.linkname,
    sourcePath: cur.sourcePath,
    openFile: cur.openFile !== undefined ? () => cur.openFile!() : undefined,
    realPath: cur.realPath ?? cur.path,
    statIndex: cur.statIndex,
    open: cur.open,
    linkKey: cur.linkKey,
  };
}

/**
 * A layer entry of a COPY, with the source node it was made from: a file's bytes and stat cache
 * data, and what the tree checks before a context entry is written (`SourceTree.check`).
 */
export interface CopyEntry extends TarWriteEntry {
  source?: SourceNode;
}

/**
 * A file entry whose bytes are a source node's file on disk: the file's path is asked of the node
 * when the writer reads it, not kept per entry (a COPY of a large context holds 200k of these).
 */
class SourceFileEntry implements CopyEntry {
  readonly type = 'file';
  constructor(
    readonly path: string,
    readonly mode: number,
    readonly uid: number,
    readonly gid: number,
    readonly size: number,
    readonly mtime: number,
    readonly source: SourceNode,
  ) {}
  get sourcePath(): string | undefined {
    return this.source.sourcePath;
  }
  get openSourceFd(): (() => number) | undefined {
    const s = this.source;
    return s.openFile !== undefined ? () => s.openFile!() : undefined;
  }
}

/** The lower filesystem as the COPY sees it (the stage so far). */
export interface LowerFs {
  /** Entry type at a clean relative path, after following symlinks in every component; `realPath` is where it resolves. */
  resolve(path: string): { realPath: string; type?: string };
}

export interface EmitOptions {
  /** Absolute destination as expanded and joined with WORKDIR; a trailing `/` kept. */
  dest: string;
  owner?: Owner;
  chmod?: string;
  parents: boolean;
  /** Time for directories the step creates (seconds). */
  now: number;
  lower: LowerFs;
  /** ADD: expand an archive node into entries below `dir`, or return undefined when it is not an archive. */
  unpack?: (node: SourceNode, dir: string) => Promise<TarWriteEntry[] | undefined>;
}

/**
 * The layer entries of a COPY/ADD: Docker's rules for where each source lands (a directory's
 * contents, not the directory; a file into `dest/` when dest ends in `/`, is an existing directory
 * or there are several sources), ownership and mode flags, and missing parents created 0755.
 */
export async function emitEntries(matches: SourceMatch[], tree: SourceTree | undefined, opts: EmitOptions): Promise<CopyEntry[]> {
  const entries = new Map<string, CopyEntry>();
  const destClean = cleanSource(opts.dest);
  const resolved = opts.lower.resolve(destClean);
  const destRel = resolved.realPath;
  const destIsDir = opts.dest.endsWith('/') || opts.dest.endsWith('/.') || matches.length > 1 || resolved.type === 'dir';
  const owned = (n: SourceNode) => ({ uid: opts.owner?.uid ?? n.uid, gid: opts.owner?.gid ?? n.gid });
  const mode = (n: SourceNode) => (n.type === 'symlink' ? 0o777 : opts.chmod ? applyChmod(opts.chmod, n.mode, n.type === 'dir') : n.mode);
  // Hard links are kept within one source (BuildKit copies each source on its own): the first
  // name of a file is written with its bytes, the others link to it.
  let firstName = new Map<string, string>();
  const put = (path: string, n: SourceNode, data?: string | Buffer) => {
    if (path === '' || path === '.') return;
    const { uid, gid } = owned(n);
    const key = n.type === 'file' && data === undefined ? n.linkKey : undefined;
    if (key !== undefined) {
      const first = firstName.get(key);
      if (first !== undefined && entries.get(first)?.type === 'file') {
        entries.set(path, { path, type: 'hardlink', mode: mode(n), uid, gid, size: 0, mtime: n.mtime, linkname: first, source: n });
        return;
      }
      firstName.set(key, path);
    }
    if (n.type === 'file' && data === undefined && n.sourcePath !== undefined) {
      entries.set(path, new SourceFileEntry(path, mode(n), uid, gid, n.size, n.mtime, n));
      return;
    }
    const base: CopyEntry = { path, type: n.type, mode: mode(n), uid, gid, size: n.type === 'file' ? n.size : 0, mtime: n.mtime, source: n };
    if (n.type === 'symlink') base.linkname = n.linkname;
    if (n.type === 'file') {
      if (data !== undefined) {
        const bytes = typeof data === 'string' ? Buffer.from(data) : data;
        base.data = bytes;
        base.size = bytes.length;
      } else if (n.open) base.open = n.open;
    }
    entries.set(path, base);
  };
  const join = (a: string, b: string) => (a === '' ? b : b === '' ? a : `${a}/${b}`);

  // The parents a copy creates: 0755, owned like the copy (BuildKit MkdirAll; no --chmod).
  const parentOwner = opts.owner ?? { uid: 0, gid: 0 };
  const mkdir = (path: string, owner = parentOwner) => {
    if (path !== '' && !entries.has(path)) entries.set(path, { path, type: 'dir', mode: 0o755, ...owner, size: 0, mtime: opts.now });
  };

  /** Where each archive was unpacked, by entry: the directories an archive implies are root's. */
  const archiveDirOf = new Map<string, string>();
  for (const m of matches) {
    const n = m.node;
    firstName = new Map();
    if (opts.parents) {
      const rel = m.base ? relTo(m.base, n.path) : n.path;
      const target = join(destRel, rel);
      // The directories between the pivot and the match come from the source, with the copy's
      // owner and mode flags (BuildKit createParentDirs); ones the destination has stay as they are.
      for (let d = posix.dirname(rel); d !== '.' && tree; d = posix.dirname(d)) {
        const t = join(destRel, d);
        if (entries.has(t) || opts.lower.resolve(t).type === 'dir') continue;
        const sn = tree.stat(m.base ? join(m.base, d) : d);
        if (sn?.type === 'dir') put(t, sn);
      }
      if (n.type === 'dir') {
        put(target, n);
        for (const c of m.nodes.slice(1)) put(join(target, relTo(n.path, c.path)), c);
      } else put(target, n, m.data);
      continue;
    }
    if (n.type === 'dir') {
      // A directory's contents go into the destination; a missing destination is made like a
      // parent, not after the source directory (BuildKit prepareTargetDir + MkdirAll).
      if (opts.lower.resolve(destRel).type !== 'dir') mkdir(destRel);
      for (const c of m.nodes.slice(1)) put(join(destRel, relTo(n.path, c.path)), c);
      continue;
    }
    const target = destIsDir ? join(destRel, posix.basename(n.path)) : destRel;
    if (opts.unpack && n.type === 'file' && m.data === undefined && m.downloaded === undefined) {
      const dir = destIsDir || opts.dest.endsWith('/') ? destRel : destRel;
      const unpacked = await opts.unpack(n, dir);
      if (unpacked) {
        for (const e of unpacked) {
          entries.set(e.path, e);
          archiveDirOf.set(e.path, dir);
        }
        continue;
      }
    }
    if (target === '') throw new StrataError('BUILD_FAILED', `cannot copy a file to /`);
    put(target, n, m.data);
  }

  // Parents that neither the lower filesystem nor this layer has. Inside an unpacked archive they
  // are root's, 0755, whatever --chown says (as the archive's extraction makes them); the
  // destination and above are the copy's.
  for (const p of [...entries.keys()]) {
    const archiveDir = archiveDirOf.get(p);
    for (let dir = posix.dirname(p); dir !== '.' && dir !== ''; dir = posix.dirname(dir)) {
      if (entries.has(dir)) break;
      if (opts.lower.resolve(dir).type === 'dir') break;
      const inArchive = archiveDir !== undefined && (archiveDir === '' || dir.startsWith(`${archiveDir}/`));
      mkdir(dir, inArchive ? { uid: 0, gid: 0 } : parentOwner);
    }
  }
  // parents before children, siblings in byte order (what a tar writer needs)
  return [...entries.values()].sort((a, b) => comparePaths(a.path, b.path));
}
