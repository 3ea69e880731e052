import { closeSync, createReadStream, createWriteStream, lstatSync, readdirSync, type BigIntStats, type Stats } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { StrataError } from '@strata/errors';
import { Hasher, type Digest } from '@strata/oci';
import { entryFromStat, hardlinks, layerFromUncompressed, type Change, type Layer } from '@strata/layer';
import { comparePaths, fdPath, descendAt, joinRel, openDirAt, openRoot, readXattrs, writeTar, WHITEOUT_OPAQUE, WHITEOUT_PREFIX, type TarWriteEntry } from '@strata/tar';
import { readTreeXattrs } from './xattrs';
import { lowerView, type LowerDir } from './lower-view';

/** xattrs overlayfs keeps for itself in an upper dir; never part of a layer. */
const OVERLAY_XATTR = /^trusted\.overlay\./;

function isWhiteoutDevice(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

function sortedNames(abs: string): string[] {
  return readdirSync(abs).sort((a, b) => comparePaths(a, b));
}

/**
 * The changes of a container as `docker diff` reports them. For containers Docker's overlay2
 * driver falls back to the "naive" diff (moby `archive.ChangesDirs` between the container's
 * view and the image's: the container's parent is its `-init` layer, not the image), so this
 * computes the same thing from the upper dir alone: an entry present below is `C` when its
 * mode (type and permissions), owner or device differ, or — not for directories — its mtime
 * (to the nanosecond) or size; else it is `A`; whiteouts are `D`, and so are the lower children
 * an opaque directory hides; a directory with changes inside is `C` itself (listed before
 * them). Paths are listed in a sorted walk (Docker's order is its map order).
 */
export function upperChanges(upperdir: string, lowers: readonly LowerDir[], xattrs = readTreeXattrs(upperdir)): Change[] {
  return treeChanges(upperdir, lowers, (rel) => rel !== '.' && xattrs.get(rel)?.['trusted.overlay.opaque']?.toString() === 'y');
}

/**
 * The same comparison for the copying fallback, where `rootfs` is a full copy of the view:
 * every directory is compared with the lower one completely (what is missing was deleted).
 */
export function copyChanges(rootfs: string, lowers: readonly LowerDir[]): Change[] {
  return treeChanges(rootfs, lowers, () => true);
}

/** `complete(rel)`: the directory `rel` of `dir` lists all its children (else only changed ones, as an upper dir). */
function treeChanges(dir: string, lowers: readonly LowerDir[], complete: (rel: string) => boolean): Change[] {
  const view = lowerView([...lowers]);
  const out: Change[] = [];
  // Through descriptors (docs/PATH-SAFETY.md): a directory swapped for a symlink while the
  // container runs is listed as the symlink it now is, never followed out of the tree.
  const visit = (rel: string, dfd: number, parentAdded: boolean) => {
    const names = sortedNames(fdPath(dfd));
    const inUpper = new Set(names);
    const hidden = complete(rel) && !parentAdded ? view.children(rel).filter((n) => !inUpper.has(n)) : [];
    const all = [...names.map((n) => ({ n, upper: true })), ...hidden.map((n) => ({ n, upper: false }))].sort((a, b) => comparePaths(a.n, b.n));
    for (const { n, upper } of all) {
      const crel = joinRel(rel, n);
      const path = `/${crel}`;
      if (!upper) {
        out.push({ path, kind: 'delete' });
        continue;
      }
      const st = lstatSync(fdPath(dfd, n), { bigint: true });
      const old = parentAdded ? undefined : view.lookup(crel)?.stat;
      if (st.isCharacterDevice() && st.rdev === 0n) {
        if (old) out.push({ path, kind: 'delete' });
        continue;
      }
      const mark = out.length;
      let added = false;
      if (!old) {
        out.push({ path, kind: 'add' });
        added = true;
      } else if (statDifferent(old, st)) {
        out.push({ path, kind: 'modify', what: what(old, st) });
        added = true;
      }
      if (st.isDirectory()) {
        const cfd = openDirAt(dfd, n);
        if (cfd === undefined) throw new StrataError('IO_ERROR', `${crel}: stopped being a directory while it was read`);
        try {
          visit(crel, cfd, !old || !old.isDirectory());
        } finally {
          closeSync(cfd);
        }
        if (out.length > mark && !added) out.splice(mark, 0, { path, kind: 'modify' });
      }
    }
  };
  const rootFd = openRoot(dir);
  try {
    visit('.', rootFd, false);
  } finally {
    closeSync(rootFd);
  }
  return out;
}

function statDifferent(a: BigIntStats, b: BigIntStats): boolean {
  if (a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid || a.rdev !== b.rdev) return true;
  return !a.isDirectory() && (a.mtimeNs !== b.mtimeNs || a.size !== b.size);
}

function what(a: BigIntStats, b: BigIntStats): NonNullable<Change['what']> {
  const w: NonNullable<Change['what']> = [];
  if ((a.mode & 0o170000n) !== (b.mode & 0o170000n)) w.push('type');
  if ((a.mode & 0o7777n) !== (b.mode & 0o7777n)) w.push('mode');
  if (a.uid !== b.uid || a.gid !== b.gid) w.push('owner');
  if (!a.isDirectory() && a.size !== b.size) w.push('size');
  if (!a.isDirectory() && a.mtimeNs !== b.mtimeNs) w.push('mtime');
  return w;
}

/**
 * What a walk of an upper dir noticed that committing the dir as a snapshot needs: overlayfs's own
 * xattrs to strip, the opaque directories, entries a layer does not hold, and entries whose mtime
 * the layer writes otherwise (clamped to `clampMtime`, truncated to the second: `CAPTURE_TAR_OPTIONS`).
 */
export interface UpperNotes {
  /** With SOURCE_DATE_EPOCH: the layer tar clamps mtimes to it. */
  clampMtime?: number;
  overlayXattrs: Array<{ path: string; names: string[] }>;
  opaque: string[];
  /** Entries the layer leaves out or reads differently (sockets, user files named .wh.*). */
  unusual: string[];
  /** Entries whose mtime in the layer is not the one on disk: `mtime` is the layer's. */
  retimed: Array<{ path: string; symlink: boolean; mtime: number }>;
}

export function upperNotes(clampMtime?: number): UpperNotes {
  return { clampMtime, overlayXattrs: [], opaque: [], unusual: [], retimed: [] };
}

/**
 * How a layer captured from a container's changes (a RUN step, a commit) is written: mtimes in
 * whole seconds, as BuildKit's and Docker's diff writers write them (containerd's archive and
 * moby's pkg/archive truncate ModTime to the second), so an entry needs no PAX header for its time
 * (a RUN that writes 20,000 files made a layer 20 MB larger, and slower to write, with them).
 */
export const CAPTURE_TAR_OPTIONS = { subsecond: false } as const;

/**
 * The upper dir as OCI layer entries, in deterministic (sorted) order: 0/0 char devices become
 * `.wh.<name>`, an opaque directory gets a `.wh..wh..opq` entry right after it, overlay's own
 * xattrs are dropped, other xattrs kept; files linked several times become hardlink entries.
 * Without `xattrs` (a map of the whole tree), each entry's are read as it is visited: one walk.
 */
export function* upperEntries(upperdir: string, xattrs?: Map<string, Record<string, Buffer>>, notes?: UpperNotes): Generator<TarWriteEntry> {
  const linked = hardlinks();
  const attrsOf = (rel: string, abs: string) => (xattrs ? xattrs.get(rel) : readXattrs(abs));
  if (notes) {
    const own = attrsOf('.', upperdir);
    const names = Object.keys(own ?? {}).filter((k) => OVERLAY_XATTR.test(k) && k !== 'trusted.overlay.opaque');
    if (names.length) notes.overlayXattrs.push({ path: '.', names });
  }
  // Directories are entered through descriptors (a container may swap one for a symlink while
  // it is committed); files keep their real path and the inode seen here, which writeTar checks.
  function* visit(rel: string, abs: string, dfd: number): Generator<TarWriteEntry> {
    for (const name of sortedNames(fdPath(dfd))) {
      const crel = joinRel(rel, name);
      const cabs = join(abs, name);
      const at = fdPath(dfd, name);
      const st = lstatSync(at);
      if (isWhiteoutDevice(st)) {
        yield { path: joinRel(rel, `${WHITEOUT_PREFIX}${name}`), type: 'file', mode: 0o600, uid: st.uid, gid: st.gid, size: 0, mtime: Math.floor(st.mtimeMs / 1000) };
        continue;
      }
      const e = entryFromStat(crel, cabs, st, at);
      if (!e) {
        notes?.unusual.push(crel);
        continue;
      }
      if (notes && name.startsWith(WHITEOUT_PREFIX)) notes.unusual.push(crel);
      const attrs = attrsOf(crel, at);
      if (attrs) {
        const kept = Object.fromEntries(Object.entries(attrs).filter(([k]) => !OVERLAY_XATTR.test(k)));
        if (Object.keys(kept).length) e.xattrs = kept;
        if (notes) {
          const strip = Object.keys(attrs).filter((k) => OVERLAY_XATTR.test(k) && k !== 'trusted.overlay.opaque');
          if (strip.length) notes.overlayXattrs.push({ path: crel, names: strip });
        }
      }
      if (notes) {
        // what writeTar makes of it: clamped, then whole seconds
        const mtime = Math.floor(notes.clampMtime !== undefined && e.mtime > notes.clampMtime ? notes.clampMtime : e.mtime);
        if (mtime !== e.mtime) notes.retimed.push({ path: crel, symlink: e.type === 'symlink', mtime });
      }
      yield linked(e, st);
      if (e.type === 'dir') {
        if (attrs?.['trusted.overlay.opaque']?.toString() === 'y') {
          notes?.opaque.push(crel);
          yield { path: joinRel(crel, WHITEOUT_OPAQUE), type: 'file', mode: st.mode & 0o777, uid: st.uid, gid: st.gid, size: 0, mtime: Math.floor(st.mtimeMs / 1000) };
        }
        yield* descendAt(dfd, name, crel, (cfd) => visit(crel, cabs, cfd));
      }
    }
  }
  const rootFd = openRoot(upperdir);
  try {
    yield* visit('.', upperdir, rootFd);
  } finally {
    closeSync(rootFd);
  }
}

/** Write entries as an uncompressed layer tar file; returns the layer (diffID computed while writing). */
export async function writeLayerFile(entries: Iterable<TarWriteEntry>, file: string): Promise<Layer & { path: string }> {
  const out = createWriteStream(file);
  const hasher = new Hasher();
  let size = 0;
  for await (const chunk of writeTar(entries, CAPTURE_TAR_OPTIONS)) {
    hasher.update(chunk);
    size += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  const diffId: Digest = hasher.digest();
  const open = async () => createReadStream(file, { highWaterMark: 256 * 1024 }) as AsyncIterable<Uint8Array>;
  return Object.assign(layerFromUncompressed({ open, diffId, size }), { path: file });
}
