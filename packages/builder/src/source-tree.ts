import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { StrataError } from '@strata/errors';
import { beneathReader, type BeneathReader } from '@strata/tar';
import type { ByteStream } from '@strata/layer';
import { contentDigests, openStatCache, STAT_FIELDS, walkCacheFile, statContext, typeOfMode, type ContextTable, type DigestEntry, type StatCache } from '@strata/context';
import type { Matcher } from '@strata/dockerignore';
import type { UnionView, ViewEntry } from '@strata/unionfs';
import { favourSmallHeap } from './small-heap';

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
  /**
   * Context files: a read descriptor of `sourcePath` (the caller closes it), reached below the
   * context's root with no symlink followed and only if it is the file the walk saw.
   */
  openFile?(): number;
  /** A followed top-level symlink (named after the link): the path of its target. */
  realPath?: string;
  /**
   * Context entries: the row of the context's lstat table (the stat fingerprint and the stat cache
   * key on it). A followed top-level symlink carries its target's, so a change to the target is seen.
   */
  statIndex?: number;
  /** The bytes as a stream (files in a layer stack). */
  open?: () => Promise<ByteStream>;
  /** Files only: equal keys are one file under several names (hard links); a COPY keeps them linked. */
  linkKey?: string;
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
  /** Context files: the sha256 (hex) of a file node's bytes the stat cache vouches for, without reading it. */
  contentHash?(node: SourceNode): string | undefined;
  /** Context: the file nodes (and their bytes) whose content digest needs them read (the stat cache cannot vouch for them). */
  unhashed?(nodes: SourceNode[]): { files: number; bytes: number };
  /**
   * Context: start taking content hashes from a pass that reads the files anyway (a layer being
   * written); hand each file node's to the function returned. The next `digests` uses them
   * instead of reading those files again.
   */
  takeHashes?(): (node: SourceNode, hex: string) => void;
  /**
   * Context: throw UNSAFE_PATH unless the node is still what the walk saw, reached below the
   * root with no symlink followed (a walk by path can be steered out by a concurrent swap of a
   * directory for a symlink; what is written from it is checked this way: docs/PATH-SAFETY.md).
   */
  check?(node: SourceNode): void;
  /** Close what reading the tree's files keeps open (directory descriptors); it can be read again afterwards. */
  release?(): void;
}

/** Reading a context's files from its table: below the root, each only if it is the inode the walk saw. */
class ContextFiles {
  private reader: BeneathReader | undefined;
  constructor(private readonly root: string) {}
  open(table: ContextTable, rel: string, row: number): number {
    const at = row * STAT_FIELDS;
    this.reader ??= beneathReader(this.root);
    return this.reader.openFile(rel, { ino: table.stats[at + 4], dev: table.stats[at + 5] }, `context file ${rel}`);
  }
  check(table: ContextTable, rel: string, row: number): void {
    const at = row * STAT_FIELDS;
    this.reader ??= beneathReader(this.root);
    const st = this.reader.lstat(rel);
    if (st === undefined || st.ino !== table.stats[at + 4] || st.dev !== table.stats[at + 5]) {
      throw new StrataError('UNSAFE_PATH', `context entry ${rel} changed while the build read it (it is not what the walk found)`);
    }
  }
  release(): void {
    this.reader?.close();
    this.reader = undefined;
  }
}

/**
 * A context entry: a view of its row in the context's lstat table. The fields a build does not
 * always need are read from the row when asked for: an unchanged rebuild makes one of these per
 * file of the context and reads little more than the path.
 */
class ContextNode implements SourceNode {
  readonly realPath: string | undefined = undefined;
  constructor(
    private readonly table: ContextTable,
    readonly path: string,
    readonly type: SourceNode['type'],
    readonly statIndex: number,
    readonly linkname: string | undefined,
    private readonly files: ContextFiles,
  ) {}
  get mode(): number {
    return this.table.stats[this.statIndex * STAT_FIELDS] & 0o7777;
  }
  get size(): number {
    return this.type === 'file' ? this.table.stats[this.statIndex * STAT_FIELDS + 1] : 0;
  }
  get mtime(): number {
    return Math.floor(this.table.stats[this.statIndex * STAT_FIELDS + 2] / 1000);
  }
  // Docker's client sends the context with uid/gid 0 (docker/cli resetUIDAndGID).
  get uid(): number {
    return 0;
  }
  get gid(): number {
    return 0;
  }
  get sourcePath(): string | undefined {
    return this.type === 'file' ? `${this.table.root}/${this.path}` : undefined;
  }
  openFile(): number {
    return this.files.open(this.table, this.path, this.statIndex);
  }
  get linkKey(): string | undefined {
    const at = this.statIndex * STAT_FIELDS;
    // only a file with more than one name can be linked to another (most are not: no key, no map entry)
    if (this.type !== 'file' || !(this.table.stats[at + 6] > 1)) return undefined;
    return `${this.table.stats[at + 5]}:${this.table.stats[at + 4]}`;
  }
}

/** The build context after .dockerignore, listed once per build. */
/** From this many entries on, a context's per-file state is worth a smaller heap (see small-heap.ts). */
const LARGE_CONTEXT = 50_000;

export function contextTree(contextDir: string, matcher: Matcher | undefined, cacheDir: string | undefined): SourceTree {
  const root = resolve(contextDir);
  let table: ContextTable | undefined;
  let list: SourceNode[] | undefined;
  let byPath: Map<string, number> | undefined;
  let statCache: StatCache | undefined;
  let whole: { digest: string; newestMtimeMs: number } | undefined;
  let filesRead = 0;
  const files = new ContextFiles(root);
  /** Hashes taken by a pass that read the files (`takeHashes`): 32 bytes per table row, and which rows have one. */
  let fresh: { at: number; hashes: Buffer; has: Uint8Array } | undefined;
  const openCache = () => (statCache ??= cacheDir !== undefined ? openStatCache(cacheDir, root) : undefined);
  /** What the stat cache vouches for of a file node (undefined without a cache or for other nodes). */
  const trustedHash = (n: SourceNode): string | undefined => {
    if (n.type !== 'file' || n.statIndex === undefined) return undefined;
    const c = openCache();
    if (c === undefined) return undefined;
    const stats = table!.stats;
    const at = n.statIndex * STAT_FIELDS;
    return c.get(n.realPath ?? n.path, { size: stats[at + 1], mtimeMs: stats[at + 2], ctimeMs: stats[at + 3], ino: stats[at + 4] });
  };
  const trusted = (n: SourceNode): boolean => {
    const c = openCache();
    if (c === undefined || n.statIndex === undefined) return false;
    const stats = table!.stats;
    const at = n.statIndex * STAT_FIELDS;
    return c.trusts(n.realPath ?? n.path, { size: stats[at + 1], mtimeMs: stats[at + 2], ctimeMs: stats[at + 3], ino: stats[at + 4] });
  };
  const load = (): SourceNode[] => {
    if (list) return list;
    const t = statContext(root, { matcher }, { walkCacheFile: cacheDir !== undefined ? walkCacheFile(cacheDir, root) : undefined });
    if (t.paths.length >= LARGE_CONTEXT) favourSmallHeap();
    const nodes: SourceNode[] = [];
    const { paths, stats, linknames } = t;
    for (let i = 0; i < paths.length; i++) {
      const type = typeOfMode(stats[i * STAT_FIELDS]);
      if (type === 'socket') continue;
      nodes.push(new ContextNode(t, paths[i], type, i, type === 'symlink' ? linknames.get(i) : undefined, files));
    }
    table = t;
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
      const all = load();
      // A COPY of (about) the whole context: the fingerprint of the whole table. It covers every
      // node's row, so it is sound for any nodes of this context, and it needs no loop over them.
      if (nodes.length >= all.length) return (whole ??= tableFingerprint(table!));
      return statFingerprint(root, table!.stats, nodes);
    },
    contentHash(node) {
      load();
      return trustedHash(node);
    },
    unhashed(nodes) {
      load();
      let files = 0;
      let bytes = 0;
      for (const n of nodes) {
        if (n.type !== 'file' || n.statIndex === undefined || trusted(n)) continue;
        files++;
        bytes += n.size;
      }
      return { files, bytes };
    },
    takeHashes() {
      load();
      const c = openCache();
      const rows = table!.paths.length;
      const taken = { at: c !== undefined ? c.now() : Date.now(), hashes: Buffer.alloc(rows * 32), has: new Uint8Array(rows) };
      fresh = taken;
      return (n, hex) => {
        // a followed top-level symlink carries its target's row, and is digested as the target
        const i = n.statIndex;
        if (i === undefined || n.type !== 'file') return;
        taken.hashes.write(hex, i * 32, 32, 'hex');
        taken.has[i] = 1;
      };
    },
    check(node) {
      if (node.statIndex === undefined) return;
      load();
      files.check(table!, node.realPath ?? node.path, node.statIndex);
    },
    release() {
      files.release();
    },
    digests(nodes) {
      load();
      const stats = table!.stats;
      // By the entry's own path (a followed symlink is digested as its target), answered by node
      // path. Entries are made one at a time as the digests are taken: a context can have 200k.
      const targets = new Set<string>();
      for (const n of nodes) if (n.realPath !== undefined) targets.add(n.realPath);
      function* entries(): Generator<DigestEntry> {
        const done = new Set<string>();
        for (const n of nodes) {
          if (n.statIndex === undefined) continue;
          const path = n.realPath ?? n.path;
          if (targets.has(path)) {
            if (done.has(path)) continue;
            done.add(path);
          }
          const at = n.statIndex * STAT_FIELDS;
          const e: DigestEntry = { path, type: n.type, mode: n.mode, uid: 0, gid: 0, size: n.size, linkname: n.linkname, mtimeMs: stats[at + 2], ctimeMs: stats[at + 3], ino: stats[at + 4], dev: stats[at + 5] };
          if (taken !== undefined && taken.has[n.statIndex] === 1) e.freshHash = taken.hashes.toString('hex', n.statIndex * 32, n.statIndex * 32 + 32);
          yield e;
        }
      }
      const taken = fresh;
      const d = contentDigests(root, entries(), { statCache: openCache(), freshAt: taken?.at });
      fresh = undefined;
      filesRead += d.filesRead;
      if (targets.size === 0) return d.digests as Map<string, string>;
      const out = new Map<string, string>();
      for (const n of nodes) {
        const digest = n.statIndex !== undefined ? d.digests.get(n.realPath ?? n.path) : undefined;
        if (digest !== undefined) out.set(n.path, digest);
      }
      return out;
    },
  };
}

/**
 * sha256 over what lstat said of each node (mode with the type bits, size, mtime, ctime, inode,
 * device: the table's row), the path, the entry's own path and the link target, and the newest
 * mtime or ctime among them. The numbers go into one Float64Array and the strings into one
 * joined string: an unchanged rebuild computes this for every context file, and formatting
 * fractional millisecond times as text cost more than the hashing.
 */
function statFingerprint(root: string, stats: Float64Array, nodes: readonly SourceNode[]): { digest: string; newestMtimeMs: number } {
  const F = STAT_FIELDS;
  const nums = new Float64Array(nodes.length * F);
  const strings: string[] = [root];
  let newest = 0;
  for (let i = 0, at = 0; i < nodes.length; i++, at += F) {
    const n = nodes[i];
    strings.push(n.path);
    const k = n.statIndex;
    if (k === undefined) continue; // all zero: not from the context walk
    const from = k * F;
    const mtimeMs = stats[from + 2];
    const ctimeMs = stats[from + 3];
    nums[at] = stats[from];
    nums[at + 1] = stats[from + 1];
    nums[at + 2] = mtimeMs;
    nums[at + 3] = ctimeMs;
    nums[at + 4] = stats[from + 4];
    nums[at + 5] = stats[from + 5];
    if (mtimeMs > newest) newest = mtimeMs;
    if (ctimeMs > newest) newest = ctimeMs;
    // the entry's own path too: a followed symlink is fingerprinted as its target
    if (n.realPath !== undefined) strings.push(`\u0001${n.realPath}`);
    if (n.linkname !== undefined) strings.push(`\u0002${n.linkname}`);
  }
  const digest = createHash('sha256').update(new Uint8Array(nums.buffer)).update(strings.join('\0')).digest('hex');
  return { digest, newestMtimeMs: newest };
}

/** `statFingerprint` of every entry of the table at once: its rows, paths and link targets as they are. */
function tableFingerprint(t: ContextTable): { digest: string; newestMtimeMs: number } {
  const F = STAT_FIELDS;
  const { stats } = t;
  let newest = 0;
  for (let at = 0; at < stats.length; at += F) {
    if (stats[at + 2] > newest) newest = stats[at + 2];
    if (stats[at + 3] > newest) newest = stats[at + 3];
  }
  const links: string[] = [];
  for (const [i, target] of t.linknames) links.push(`${i}\u0002${target}`);
  const digest = createHash('sha256')
    .update(`table\0${t.root}\0`)
    .update(new Uint8Array(stats.buffer, stats.byteOffset, stats.byteLength))
    .update(t.pathsText ?? t.paths.join('\0'))
    .update(`\0${links.join('\0')}`)
    .digest('hex');
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
    // Hard links of a layer stack share the tar entry that holds their bytes.
    linkKey: type === 'file' && e.data ? JSON.stringify(e.data) : undefined,
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
