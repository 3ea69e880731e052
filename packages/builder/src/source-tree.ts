import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { StrataError } from '@strata/errors';
import type { ByteStream } from '@strata/layer';
import { contentDigests, openStatCache, walkContext, type ContextEntry, type StatCache } from '@strata/context';
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
  let raw: Map<string, ContextEntry> | undefined;
  let statCache: StatCache | undefined;
  let filesRead = 0;
  const load = () => {
    if (list) return;
    list = [];
    byPath = new Map();
    raw = new Map();
    for (const e of walkContext(root, { matcher })) {
      if (e.type === 'socket') continue;
      raw.set(e.path, e);
      byPath.set(e.path, list.length);
      list.push({
        path: e.path,
        type: e.type,
        mode: e.mode,
        // Docker's client sends the context with uid/gid 0 (docker/cli resetUIDAndGID).
        uid: 0,
        gid: 0,
        size: e.type === 'file' ? e.size : 0,
        mtime: Math.floor(e.mtimeMs / 1000),
        linkname: e.linkname,
        sourcePath: e.type === 'file' ? `${root}/${e.path}` : undefined,
      });
    }
  };
  const rootNode = (): SourceNode => ({ path: '', type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 });
  return {
    kind: 'context',
    get filesRead() {
      return filesRead;
    },
    stat(path) {
      load();
      if (path === '') return rootNode();
      const i = byPath!.get(path);
      return i === undefined ? undefined : list![i];
    },
    below(dir) {
      load();
      if (dir === '') return list!;
      const i = byPath!.get(dir);
      if (i === undefined) return [];
      const out: SourceNode[] = [];
      const prefix = `${dir}/`;
      // The walk is depth-first, so a directory's subtree follows it contiguously.
      for (let j = i + 1; j < list!.length && list![j].path.startsWith(prefix); j++) out.push(list![j]);
      return out;
    },
    all() {
      load();
      return list!;
    },
    fingerprint(nodes) {
      load();
      const h = createHash('sha256').update(root);
      let newest = 0;
      for (const n of nodes) {
        const e = raw!.get(n.path);
        if (!e) {
          h.update(`${n.path}\0-\n`);
          continue;
        }
        if (e.mtimeMs > newest) newest = e.mtimeMs;
        if (e.ctimeMs > newest) newest = e.ctimeMs;
        h.update(`${e.path}\0${e.type}\0${e.mode}\0${e.size}\0${e.mtimeMs}\0${e.ctimeMs}\0${e.ino}\0${e.dev}\0${e.linkname ?? ''}\n`);
      }
      return { digest: h.digest('hex'), newestMtimeMs: newest };
    },
    digests(nodes) {
      load();
      statCache ??= cacheDir !== undefined ? openStatCache(cacheDir, root) : undefined;
      const entries: ContextEntry[] = [];
      for (const n of nodes) {
        const e = raw!.get(n.path);
        if (e) entries.push({ ...e, uid: 0, gid: 0 });
      }
      const d = contentDigests(root, entries, { statCache });
      filesRead += d.filesRead;
      return d.digests as Map<string, string>;
    },
  };
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
