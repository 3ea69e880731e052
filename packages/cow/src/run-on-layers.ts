import { randomBytes } from 'node:crypto';
import { lutimesSync, mkdirSync, rmSync, utimesSync, chownSync, chmodSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { chainIds, type Digest } from '@strata/oci';
import type { Change, Layer } from '@strata/layer';
import { removeXattr, type TarWriteEntry } from '@strata/tar';
import type { UpperNotes } from './capture';
import { commitSnapshot, readSnapshotMeta } from './snapshots';
import { lowerView } from './lower-view';
import { createWritableLayer, recoverWritableLayers, removeWritableLayer, type RootfsSpec, type WritableLayer } from './writable';

/** What `exec` gets: exactly the fields @strata/runtime's `runProcess` needs besides the process. */
export interface ExecContext {
  id: string;
  rootfs: RootfsSpec;
  bundleDir: string;
  stateDir: string;
}

export interface RunOnLayersOptions {
  root: string;
  /** The base image's layers, bottom → top (unpacked once into shared snapshots). */
  layers: readonly Layer[];
  /** Runs the process (normally `(c) => runProcess({ ...c, args, env, … })`); returns its exit code. */
  exec: (ctx: ExecContext) => Promise<{ exitCode: number }>;
  /** Accepted for callers that describe the step; nothing reads it (build steps are not containers). */
  config?: Record<string, unknown>;
  /** Write the layer even when the process failed (default: only on exit code 0). */
  layerOnFailure?: boolean;
  /**
   * `file` (default): the layer is written to ROOT/tmp and the writable layer removed at once.
   * `entries`: the layer's entries are read from the upper dir by the caller (`entries()`), who
   * may then commit the upper dir as the new layer's snapshot (`commitSnapshot`) and must call
   * `cleanup()`.
   */
  output?: 'file' | 'entries';
  /** Crash tests stop here: the writable layer's points (`createWritableLayer`), then `step-ran`. */
  checkpoint?: (point: string) => void | Promise<void>;
}

export interface CommitOptions {
  /** The stored layer's diffID (the digest of the tar written from `entries()` plus `extraDirs`). */
  diffId: Digest;
  /** What `entries(notes)` noticed (`upperNotes(clampMtime)` before the walk). */
  notes: UpperNotes;
  /** Directories the layer holds that the upper dir does not (mount-point stubs), as written. */
  extraDirs?: readonly TarWriteEntry[];
}

export interface RunOnLayersResult {
  exitCode: number;
  /** The writable layer's changes (`docker diff` form). */
  readonly changes: Change[];
  /** output `file`: the writable layer as an uncompressed tar in ROOT/tmp (OCI whiteouts); absent when not written. */
  layer?: Layer & { path: string };
  /** output `entries`: the upper dir as layer entries, sorted (one walk; `notes` collects what a commit needs). */
  entries(notes?: UpperNotes): Iterable<TarWriteEntry>;
  /**
   * output `entries`, after the layer is stored: make the upper dir the snapshot of the new chain,
   * as if the stored tar had been unpacked (overlay's own xattrs stripped, `extraDirs` made, mtimes
   * clamped and truncated to the second as the tar writes them). False when it cannot (the
   * copying fallback, entries a layer cannot say) or the snapshot exists: it is then unpacked
   * from the layer when needed.
   */
  commitSnapshot(o: CommitOptions): boolean;
  /** Snapshot chainIDs the step ran on. */
  snapshots: Digest[];
  /** Remove the layer file and what is left of the writable layer. */
  cleanup(): Promise<void>;
}

/**
 * One build step's RUN: a throw-away writable layer over the layers. Its record (ephemeral,
 * owned by this process) is written before anything else so GC keeps its snapshots and a crash
 * is recovered by the next strata command; after `exec`, the upper dir is captured. Throws what
 * `exec` throws (after cleaning up).
 */
export async function runOnLayers(o: RunOnLayersOptions): Promise<RunOnLayersResult> {
  await recoverWritableLayers(o.root);
  const id = `build-${randomBytes(16).toString('hex')}`;
  let layerPath: string | undefined;
  let keep = false;
  try {
    const w = await createWritableLayer(o.root, { id, layers: o.layers, ephemeral: true, checkpoint: o.checkpoint });
    const { exitCode } = await o.exec({ id, rootfs: w.rootfs(), bundleDir: join(w.dir, 'bundle'), stateDir: join(w.dir, 'runtime') });
    await o.checkpoint?.('step-ran');
    if (o.output === 'entries') {
      keep = true;
      return entriesResult(o.root, id, w, exitCode);
    }
    const captured = w.capture();
    const changes = captured.changes;
    let layer: (Layer & { path: string }) | undefined;
    if (exitCode === 0 || o.layerOnFailure) {
      const tmp = join(o.root, 'tmp');
      mkdirSync(tmp, { recursive: true });
      layerPath = join(tmp, `run-${process.pid}-${id.slice(6, 22)}.tar`);
      layer = await captured.writeLayer(layerPath);
    }
    const file = layerPath;
    return {
      exitCode,
      changes,
      layer,
      entries: () => {
        throw new Error('runOnLayers: entries() needs output: entries');
      },
      commitSnapshot: () => false,
      snapshots: [...w.snapshots],
      cleanup: async () => {
        if (file) rmSync(file, { force: true });
      },
    };
  } catch (err) {
    if (layerPath) rmSync(layerPath, { force: true });
    keep = false;
    throw err;
  } finally {
    if (!keep) removeWritableLayer(o.root, id);
  }
}

function entriesResult(root: string, id: string, w: WritableLayer, exitCode: number): RunOnLayersResult {
  let changes: Change[] | undefined;
  let committed = false;
  return {
    exitCode,
    get changes() {
      return (changes ??= w.changes());
    },
    entries: (notes) => w.entries(notes),
    commitSnapshot: (c) => {
      if (committed || w.mode !== 'overlay' || c.notes.unusual.length) return false;
      const upper = w.upperdir;
      const at = (rel: string) => (rel === '.' ? upper : join(upper, rel));
      for (const { path, names } of c.notes.overlayXattrs) for (const n of names) removeXattr(at(path), n);
      // Parents the upper dir lacks are made as an unpacked layer makes them: as the same
      // directory below (applyLayer's implicitDir), else root 0755. Metadata goes on last,
      // deepest first, as applyLayer does (making a child changes its directory's mtime).
      const below = lowerView(w.lowerdirs.map((dir, i) => ({ dir, opaque: new Set(readSnapshotMeta(root, w.snapshots[w.snapshots.length - 1 - i])?.opaque ?? []) })));
      const meta: Array<{ path: string; uid: number; gid: number; mode: number; atime: number; mtime: number }> = [];
      const ensureParent = (rel: string) => {
        const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '.';
        if (parent === '.' || lstatOrUndefined(at(parent))) return;
        ensureParent(parent);
        mkdirSync(at(parent), 0o755);
        const st = below.lookup(parent)?.stat;
        if (st?.isDirectory()) meta.push({ path: at(parent), uid: Number(st.uid), gid: Number(st.gid), mode: Number(st.mode & 0o7777n), atime: Number(st.atimeNs) / 1e9, mtime: Number(st.mtimeNs) / 1e9 });
      };
      // The stubs as the tar has them: made when missing, else given the stub's metadata (the tar
      // holds the stub, not the upper dir's copy).
      // Directories of the upper dir that a new stub goes into keep the times the tar has.
      const kept = new Set<string>();
      for (const d of c.extraDirs ?? []) {
        const parent = d.path.includes('/') ? d.path.slice(0, d.path.lastIndexOf('/')) : '.';
        const st = lstatOrUndefined(at(parent));
        if (!st?.isDirectory() || kept.has(parent)) continue;
        kept.add(parent);
        meta.push({ path: at(parent), uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, atime: st.atimeMs / 1000, mtime: st.mtimeMs / 1000 });
      }
      for (const d of c.extraDirs ?? []) {
        ensureParent(d.path);
        if (!lstatOrUndefined(at(d.path))) mkdirSync(at(d.path));
        const mtime = c.notes.clampMtime !== undefined && d.mtime > c.notes.clampMtime ? c.notes.clampMtime : d.mtime;
        meta.push({ path: at(d.path), uid: d.uid, gid: d.gid, mode: d.mode, atime: mtime, mtime });
      }
      for (const m of meta.sort((a, b) => b.path.length - a.path.length)) {
        chownSync(m.path, m.uid, m.gid);
        chmodSync(m.path, m.mode);
        utimesSync(m.path, m.atime, m.mtime);
      }
      // the times the layer has (clamped, whole seconds), as a snapshot unpacked from it would
      for (const { path, symlink, mtime } of c.notes.retimed) (symlink ? lutimesSync : utimesSync)(at(path), mtime, mtime);
      return (committed = commitSnapshotOf(root, w, c.diffId, c.notes));
    },
    snapshots: [...w.snapshots],
    cleanup: async () => {
      removeWritableLayer(root, id);
    },
  };
}

function commitSnapshotOf(root: string, w: WritableLayer, diffId: Digest, notes: UpperNotes): boolean {
  // ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln)), as chainIds computes it
  const parent = w.snapshots.at(-1);
  const chainId = parent === undefined ? diffId : chainIds([parent, diffId]).at(-1)!;
  return commitSnapshot(root, { chainId, diffId, dir: w.upperdir, opaque: notes.opaque });
}

function lstatOrUndefined(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

