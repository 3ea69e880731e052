import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { StrataError } from '@strata/errors';
import type { ByteStream } from '@strata/layer';
import { readlinkSync } from 'node:fs';
import { contentDigests, openStatCache, visitContextStats, type DigestEntry, type StatCache } from '@strata/context';
import type { Matcher } from '@strata/dockerignore';
import type { UnionView, ViewEntry } from '@strata/unionfs';

/** A file, directory or link a COPY may take, from the context or from a stage/image. */
export interface SourceNode {
  /** Relative, clean, `''` for the root. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string;
  /** A file on disk with the bytes (context files). */
  sourcePath?: string;
  /** A followed top-level symlink (named after the link): the path of its target. */
  realPath?: string;
  /**
   * Context entries: what lstat said beyond the fields above (the stat fingerprint and the stat
   * cache key on them). A followed top-level symlink carries its target's, so a change to the
   * target is seen. Flat fields, not a second object: a context can hold 100k entries.
   */
  mtimeMs?: number;
  ctimeMs?: number;
  ino?: number;
  dev?: number;
  /** The bytes as a stream (files in a layer stack). */
  open?: () => Promise<ByteStream>;
}

/** What COPY/ADD read from: the build context or the merged filesystem of a stage or image. */
export interface SourceTree {
  /** `context` or `stage:<chainID>` — part of cache keys. */
  readonly kind: 'context' | 'layers';
  stat(path: string): SourceNode | undefined;
  /** Every node strictly below `dir`, parents before children. */
  below(dir: string): SourceNode[];
  /** Every node (for wildcard matching). */
  all(): SourceNode[];
  /** Stat fingerprint of the nodes (never reads files) and the newest mtime among them (context only). */
  fingerprint?(nodes: SourceNode[]): { digest: string; newestMtimeMs: number };
  /** Content digests of the nodes (context: header + bytes, from the stat cache when unchanged). */
  digests(nodes: SourceNode[]): Map<string, string>;
  /** Files whose bytes were read to hash them so far (0 on a rebuild with nothing changed). */
  readonly filesRead: number;
}

/** The build context after .dockerignore, listed once per build. */
export function contextTree(contextDir: string, matcher: Matcher | undefined, cacheDir: string | undefined): SourceTree {
  const root = resolve(contextDir);
  let list: SourceNode[] | undefined;
  let byPath: Map<string, number> | undefined;
  let statCache: StatCache | undefined;
  let filesRead = 0;
  const load = (): SourceNode[] => {
    if (list) return list;
    const nodes: SourceNode[] = [];
    visitContextStats(root, { matcher }, (path, type, st, abs) => {
      if (type === 'socket') return;
      nodes.push({
        path,
        type,
        mode: st.mode & 0o7777,
        // Docker's client sends the context with uid/gid 0 (docker/cli resetUIDAndGID).
        uid: 0,
        gid: 0,
        size: type === 'file' ? st.size : 0,
        mtime: Math.floor(st.mtimeMs / 1000),
        linkname: type === 'symlink' ? readlinkSync(abs) : undefined,
        sourcePath: type === 'file' ? abs : undefined,
        realPath: undefined,
        mtimeMs: st.mtimeMs,
        ctimeMs: st.ctimeMs,
        ino: st.ino,
        dev: st.dev,
      });
    });
    return (list = nodes);
  };
  // Built on the first lookup of a path: `COPY . /dest` never needs it.
  const index = (): Map<string, number> => {
    if (byPath) return byPath;
    const nodes = load();
    const m = new Map<string, number>();
    for (let i = 0; i < nodes.length; i++) m.set(nodes[i].path, i);
    return (byPath = m);
  };
  const rootNode = (): SourceNode => ({ path: '', type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 });
  return {
    kind: 'context',
    get filesRead() {
      return filesRead;
    },
    stat(path) {
      if (path === '') return rootNode();
      const i = index().get(path);
      return i === undefined ? undefined : list![i];
    },
    below(dir) {
      const nodes = load();
      if (dir === '') return nodes;
      const i = index().get(dir);
      if (i === undefined) return [];
      const out: SourceNode[] = [];
      const prefix = `${dir}/`;
      // The walk is depth-first, so a directory's subtree follows it contiguously.
      for (let j = i + 1; j < nodes.length && nodes[j].path.startsWith(prefix); j++) out.push(nodes[j]);
      return out;
    },
    all: load,
    fingerprint(nodes) {
      return statFingerprint(root, nodes);
    },
    digests(nodes) {
      statCache ??= cacheDir !== undefined ? openStatCache(cacheDir, root) : undefined;
      // by the entry's own path (a followed symlink is digested as its target), answered by node path
      const entries = new Map<string, DigestEntry>();
      for (const n of nodes) {
        if (n.mtimeMs === undefined) continue;
        const path = n.realPath ?? n.path;
        entries.set(path, { path, type: n.type, mode: n.mode, uid: 0, gid: 0, size: n.size, linkname: n.linkname, mtimeMs: n.mtimeMs, ctimeMs: n.ctimeMs!, ino: n.ino! });
      }
      const d = contentDigests(root, entries.values(), { statCache });
      filesRead += d.filesRead;
      const out = new Map<string, string>();
      for (const n of nodes) {
        const digest = n.mtimeMs !== undefined ? d.digests.get(n.realPath ?? n.path) : undefined;
        if (digest !== undefined) out.set(n.path, digest);
      }
      return out;
    },
  };
}

const TYPE_CODE: Record<string, number> = { file: 1, dir: 2, symlink: 3, fifo: 4, socket: 5, char: 6, block: 7 };

/**
 * sha256 over what lstat said of each node (type, mode, size, mtime, ctime, inode, device, the
 * path, the entry's own path and the link target) and the newest mtime or ctime among them. The
 * numbers go into one Float64Array and the strings into one joined string: an unchanged rebuild
 * computes this for every context file, and formatting fractional millisecond times as text, or
 * Buffer's write methods, cost more than the hashing.
 */
function statFingerprint(root: string, nodes: readonly SourceNode[]): { digest: string; newestMtimeMs: number } {
  const FIELDS = 7;
  const nums = new Float64Array(nodes.length * FIELDS);
  const strings: string[] = [root];
  let newest = 0;
  for (let i = 0, at = 0; i < nodes.length; i++, at += FIELDS) {
    const n = nodes[i];
    strings.push(n.path);
    const mtimeMs = n.mtimeMs;
    if (mtimeMs === undefined) continue; // all zero: not from the context walk
    const ctimeMs = n.ctimeMs!;
    if (mtimeMs > newest) newest = mtimeMs;
    if (ctimeMs > newest) newest = ctimeMs;
    nums[at] = TYPE_CODE[n.type];
    nums[at + 1] = n.mode;
    nums[at + 2] = n.size;
    nums[at + 3] = mtimeMs;
    nums[at + 4] = ctimeMs;
    nums[at + 5] = n.ino!;
    nums[at + 6] = n.dev!;
    // the entry's own path too: a followed symlink is fingerprinted as its target
    if (n.realPath !== undefined) strings.push(`\u0001${n.realPath}`);
    if (n.linkname !== undefined) strings.push(`\u0002${n.linkname}`);
  }
  const digest = createHash('sha256').update(new Uint8Array(nums.buffer)).update(strings.join('\0')).digest('hex');
  return { digest, newestMtimeMs: newest };
}

function nodeOfView(view: UnionView, e: ViewEntry): SourceNode | undefined {
  const type = e.type === 'hardlink' ? 'file' : e.type;
  const path = e.path === '.' ? '' : e.path;
  return {
    path,
    type,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    size: type === 'file' ? e.size : 0,
    mtime: Math.floor(e.mtime),
    linkname: type === 'symlink' ? e.linkname : undefined,
    open: type === 'file' ? () => view.read(e.path) : undefined,
  };
}

/** The merged filesystem of a stage or image (for `COPY --from`). */
export function viewTree(view: UnionView): SourceTree {
  let all: SourceNode[] | undefined;
  const load = () => (all ??= [...view.entries()].map((e) => nodeOfView(view, e)).filter((n): n is SourceNode => n !== undefined));
  return {
    kind: 'layers',
    filesRead: 0,
    stat(path) {
      const e = view.stat(path === '' ? '.' : path);
      return e ? nodeOfView(view, e) : undefined;
    },
    below(dir) {
      const list = load();
      if (dir === '') return list;
      const prefix = `${dir}/`;
      return list.filter((n) => n.path.startsWith(prefix));
    },
    all: load,
    digests() {
      throw new StrataError('UNSUPPORTED', 'content digests of a layer stack are its chainID');
    },
  };
}
