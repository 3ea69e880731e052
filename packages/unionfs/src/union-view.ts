import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { StrataError } from '@strata/errors';
import { baseOf, cleanPath, comparePaths, indexTarFile, joinRel, parentOf, parseWhiteout, WHITEOUT_PREFIX } from '@strata/tar';
import type { ByteStream } from '@strata/layer';
import type { TarEntry } from '@strata/tar';
import { indexLayer, type IndexedEntry } from './index-layer';
import type { DataRef, LayerSource, UnionView, ViewEntry } from './types';

const ROOT: ViewEntry = { path: '.', type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0, layer: -1 };

/** A mutable tree of entries keyed by clean path, with child name sets for directories. */
export interface Tree {
  entries: Map<string, ViewEntry>;
  children: Map<string, Set<string>>;
}

export function newTree(root: ViewEntry = ROOT): Tree {
  return { entries: new Map([['.', root]]), children: new Map([['.', new Set()]]) };
}

function removeSubtree(t: Tree, rel: string): void {
  const kids = t.children.get(rel);
  if (kids) {
    for (const k of kids) removeSubtree(t, joinRel(rel, k));
    t.children.delete(rel);
  }
  t.entries.delete(rel);
}

function removePath(t: Tree, rel: string): void {
  if (!t.entries.has(rel)) return;
  removeSubtree(t, rel);
  t.children.get(parentOf(rel))?.delete(baseOf(rel));
}

/**
 * Make `rel` a directory for an entry of the layer being applied. A symlink or other
 * non-directory that a lower layer left there is replaced by an implied directory (root, 0755):
 * overlayfs shows the upper layer's directory over it, so nothing is written through a lower
 * symlink (Docker's overlay2 gives the same tree). One this layer wrote is an error.
 */
function ensureDir(t: Tree, rel: string, written: ReadonlySet<string>, what: string, name: string): void {
  if (rel === '.') return;
  const e = t.entries.get(rel);
  if (e?.type === 'dir') return;
  if (e) {
    if (written.has(rel)) {
      if (e.type === 'symlink') throw new StrataError('UNSAFE_PATH', `${what}: entry ${JSON.stringify(name)} would be written through the symlink /${rel}`);
      throw new StrataError('UNSAFE_PATH', `${what}: entry ${JSON.stringify(name)} has a parent /${rel} that is not a directory`);
    }
    removePath(t, rel);
  }
  ensureDir(t, parentOf(rel), written, what, name);
  t.entries.set(rel, { path: rel, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0, layer: -1 });
  t.children.set(rel, new Set());
  t.children.get(parentOf(rel))!.add(baseOf(rel));
}

/**
 * Apply one layer's entries onto the tree with the same rules as `applyLayer` (whiteouts and
 * opaque markers remove lower content only; dir-on-dir keeps children; anything else replaces).
 */
export function applyEntries(t: Tree, entries: IndexedEntry[], layer: number, what: string): void {
  const written = new Set<string>();
  for (const e of entries) {
    const name = e.name ?? e.path;
    // The same rule as extraction: no absolute names.
    if (name.startsWith('/')) throw new StrataError('UNSAFE_PATH', `${what}: entry ${JSON.stringify(name)} has an absolute name`);
    const rel = e.path;
    const wo = parseWhiteout(rel);
    if (wo) {
      if (wo.kind === 'meta') continue;
      if (wo.kind === 'whiteout') {
        const b = baseOf(wo.target);
        if (b === '' || b === '.' || b === '..') throw new StrataError('UNSAFE_PATH', `${what}: entry ${JSON.stringify(name)} is a whiteout that escapes its directory`);
        if (parentsAreDirs(t, wo.target, written, what, name) && !written.has(wo.target)) removePath(t, wo.target);
        continue;
      }
      if (!parentsAreDirs(t, wo.dir, written, what, name)) continue;
      const d = t.entries.get(wo.dir);
      if (d?.type === 'symlink' && written.has(wo.dir)) throw new StrataError('UNSAFE_PATH', `${what}: entry ${JSON.stringify(name)} would be applied through the symlink /${wo.dir}`);
      if (d?.type === 'dir') removeLower(t, wo.dir, written);
      // A lower non-directory there: this layer's opaque directory hides it (overlayfs).
      else if (d && wo.dir !== '.' && !written.has(wo.dir)) ensureDir(t, wo.dir, written, what, name);
      continue;
    }
    if (rel === '.') {
      if (e.type !== 'dir') throw new StrataError('UNSAFE_PATH', `${what}: entry ${JSON.stringify(name)} would change the type of the root to ${e.type}`);
      t.entries.set('.', viewEntry(e, rel, layer, undefined));
      continue;
    }
    if (baseOf(rel).startsWith(WHITEOUT_PREFIX)) continue;
    ensureDir(t, parentOf(rel), written, what, name);
    const prev = t.entries.get(rel);
    let ve: ViewEntry;
    if (e.type === 'hardlink') {
      const target = cleanPath(e.linkname ?? '');
      if (target === '.') throw new StrataError('UNSAFE_PATH', `${what}: entry ${JSON.stringify(name)} is a hardlink to the root`);
      const te = parentsAreDirs(t, target, written, what, name) ? t.entries.get(target) : undefined;
      if (!te) throw new StrataError('INVALID_TAR', `${what}: entry ${JSON.stringify(name)} is a hardlink to missing ${JSON.stringify(e.linkname)}`);
      if (te.type === 'dir') throw new StrataError('UNSAFE_PATH', `${what}: entry ${JSON.stringify(name)} is a hardlink to the directory ${JSON.stringify(e.linkname)}`);
      if (target.startsWith(`${rel}/`)) {
        throw new StrataError('INVALID_TAR', `${what}: entry ${JSON.stringify(name)} is a hardlink to ${JSON.stringify(e.linkname)}, which replacing it removes`);
      }
      if (target === rel) {
        written.add(rel);
        continue;
      }
      ve = viewEntry(te, rel, te.layer, te.data);
    } else {
      ve = viewEntry(e, rel, layer, e.type === 'file' ? { layer, offset: e.offset } : undefined);
    }
    if (prev && !(prev.type === 'dir' && ve.type === 'dir')) removePath(t, rel);
    t.entries.set(rel, ve);
    t.children.get(parentOf(rel))!.add(baseOf(rel));
    if (ve.type === 'dir' && !t.children.has(rel)) t.children.set(rel, new Set());
    written.add(rel);
  }
}

/** A view entry with one fixed shape (50k entries of one hidden class stay small). */
export function viewEntry(e: TarEntry, path: string, layer: number, data: DataRef | undefined): ViewEntry {
  return {
    path,
    type: e.type,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    size: e.size,
    mtime: e.mtime,
    layer,
    data,
    linkname: e.linkname,
    uname: e.uname,
    gname: e.gname,
    devmajor: e.devmajor,
    devminor: e.devminor,
    xattrs: e.xattrs,
  };
}

/**
 * Whether every parent of `rel` is a directory (a whiteout or hardlink target below a lower
 * non-directory names nothing). A symlink this layer wrote there is an error, as in extraction.
 */
function parentsAreDirs(t: Tree, rel: string, written: ReadonlySet<string>, what: string, name: string): boolean {
  for (let cur = parentOf(rel); cur !== '.'; cur = parentOf(cur)) {
    const e = t.entries.get(cur);
    if (e?.type === 'symlink' && written.has(cur)) throw new StrataError('UNSAFE_PATH', `${what}: entry ${JSON.stringify(name)} would be written through the symlink /${cur}`);
    if (e && e.type !== 'dir') return false;
  }
  return true;
}

function removeLower(t: Tree, dir: string, written: Set<string>): void {
  for (const k of [...(t.children.get(dir) ?? [])]) {
    const child = joinRel(dir, k);
    if (written.has(child)) {
      if (t.entries.get(child)?.type === 'dir') removeLower(t, child, written);
    } else removePath(t, child);
  }
}

/** Sorted walk of a tree (without the root). */
export function* walk(t: Tree, dir = '.'): Generator<ViewEntry> {
  const kids = [...(t.children.get(dir) ?? [])].sort(comparePaths);
  for (const k of kids) {
    const rel = joinRel(dir, k);
    const e = t.entries.get(rel)!;
    yield e;
    if (e.type === 'dir') yield* walk(t, rel);
  }
}

/** Open file descriptors of layer tars, shared by the reads of one flatten/diff. */
export type FdCache = Map<string, number>;

export function closeFds(fds: FdCache): void {
  for (const fd of fds.values()) closeSync(fd);
  fds.clear();
}

/** Read `size` bytes at `offset` of a file, synchronously, in 64 KiB chunks. */
export function* readRange(path: string, offset: number, size: number, fds?: FdCache): Generator<Uint8Array> {
  let fd = fds?.get(path);
  const own = fd === undefined;
  if (fd === undefined) {
    fd = openSync(path, 'r');
    if (fds) fds.set(path, fd);
  }
  try {
    let pos = offset;
    let left = size;
    while (left > 0) {
      const b = Buffer.allocUnsafe(Math.min(left, 64 * 1024));
      const n = readSync(fd, b, 0, b.length, pos);
      if (n === 0) throw new StrataError('INVALID_TAR', `${path} is truncated`);
      pos += n;
      left -= n;
      yield b.subarray(0, n);
    }
  } finally {
    if (own && !fds) closeSync(fd);
  }
}

/** Open the bytes a DataRef points at. */
export function openData(layers: readonly LayerSource[], ref: DataRef, size: number, fds?: FdCache): Iterable<Uint8Array> | AsyncIterable<Uint8Array> {
  if ('file' in ref) return readRange(ref.file, 0, size);
  const src = layers[ref.layer];
  if (src.path) return readRange(src.path, ref.offset, size, fds);
  if (!src.open) throw new StrataError('UNSUPPORTED', `layer ${ref.layer} cannot be read`);
  const open = src.open;
  return (async function* () {
    // No file to read by range: stream the layer up to the entry (slow, but correct).
    let pos = 0;
    let left = size;
    for await (const c of await open()) {
      const end = pos + c.length;
      if (end > ref.offset && left > 0) {
        const from = Math.max(0, ref.offset - pos);
        const part = c.subarray(from, Math.min(c.length, from + left));
        left -= part.length;
        yield part;
      }
      pos = end;
      if (left === 0) break;
    }
  })();
}

export function viewOfTree(t: Tree, layers: readonly LayerSource[]): UnionView {
  const rel = (p: string) => cleanPath(p);
  return {
    layers,
    size: t.entries.size - 1,
    stat: (p) => t.entries.get(rel(p)),
    readdir: (p) => {
      const r = rel(p);
      if (t.entries.get(r)?.type !== 'dir') return undefined;
      return [...(t.children.get(r) ?? [])].sort(comparePaths);
    },
    async read(p): Promise<ByteStream> {
      let e = t.entries.get(rel(p));
      for (let hops = 0; e?.type === 'symlink' && hops < 40; hops++) {
        const target = e.linkname ?? '';
        const next = target.startsWith('/') ? target : `${parentOf(e.path)}/${target}`;
        let clean: string;
        try {
          clean = cleanPath(next);
        } catch {
          clean = '.'; // a link climbing above / stays at / (as the kernel resolves it in a chroot)
        }
        e = t.entries.get(clean);
      }
      if (!e) throw new StrataError('NOT_FOUND', `${p}: no such file in the image`);
      if (e.type !== 'file' || !e.data) throw new StrataError('UNSUPPORTED', `${p} is a ${e.type}, not a file`);
      const it = openData(layers, e.data, e.size);
      return (async function* () {
        yield* it;
      })();
    },
    entries: () => walk(t),
  };
}

/**
 * The merged read-only view of an ordered layer stack (lowest first), built from one index pass
 * per layer; nothing is extracted. File bytes are read lazily from the layer tars.
 */
export async function unionView(layers: LayerSource[]): Promise<UnionView> {
  const t = newTree();
  for (const [i, l] of layers.entries()) {
    const what = l.name ?? `layer ${i}`;
    // A file is indexed by jumping from header to header; a stream has to be read through.
    const entries = l.path ? indexTarFile(l.path, { what }) : await indexLayer(await l.open!(), what);
    applyEntries(t, entries, i, what);
  }
  return viewOfTree(t, layers);
}
