import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StrataError } from '@strata/errors';
import { chainIds, digestHex, type Digest } from '@strata/oci';
import { changeEntries, type Change, type Layer } from '@strata/layer';
import { copyChanges, upperChanges, upperEntries, writeLayerFile, type UpperNotes } from './capture';
import type { TarWriteEntry } from '@strata/tar';
import { copyOutOfView } from './copy-out';
import { lowerView } from './lower-view';
import { buildCopyRootfs, overlaySupported } from './copy';
import type { LowerDir } from './lower-view';
import { currentOwner, ownerAlive, type Owner } from './owner';
import { ensureSnapshots, listSnapshots, readSnapshotMeta, removeSnapshot, snapshotUnpackCount, snapshotsDir } from './snapshots';
import { opaqueDirs, readTreeXattrs } from './xattrs';

/** The root filesystem handed to @strata/runtime's runProcess (same shape as its RootfsSpec). */
export type RootfsSpec = { path: string } | { lowerdirs: string[]; upperdir: string; workdir: string; volatile?: boolean };

/**
 * `ROOT/writable/<id>/layer.json`, cow's record of one writable layer: the snapshots under it
 * (bottom → top; these are **snapshots in use**, never pruned), overlay or the copying fallback,
 * and for a build step's throw-away layer the process that owns it. Beside it: `upper/` and
 * `work/` (overlay) or `rootfs/` (copy); a build step also gets `bundle/` and `runtime/` here.
 */
export interface WritableLayerRecord {
  id: string;
  snapshots: Digest[];
  diffIds: Digest[];
  mode: 'overlay' | 'copy';
  created: string;
  /** A build step's layer: removed when this process is gone. */
  ephemeral?: Owner;
}

/** A container's copy-on-write layer over its snapshots. */
export interface WritableLayer {
  readonly id: string;
  readonly mode: 'overlay' | 'copy';
  readonly dir: string;
  /** Snapshot chainIDs, bottom → top. */
  readonly snapshots: readonly Digest[];
  /** Lower dirs, top → bottom. */
  readonly lowerdirs: string[];
  /** overlay: the upper dir; copy: the full root filesystem copy. */
  readonly upperdir: string;
  readonly workdir: string;
  /** Create what the layer needs (upper/work dirs, or the copied root filesystem). Idempotent. */
  prepare(): void;
  rootfs(): RootfsSpec;
  /** The directories a reader of the merged view looks through, top → bottom. */
  viewDirs(): string[];
  /** `docker diff` of the writable layer. */
  changes(): Change[];
  /** The writable layer as an uncompressed OCI layer tar in `file` (OCI whiteouts, sorted, deterministic). */
  writeLayer(file: string): Promise<Layer & { path: string }>;
  /** The same layer as tar entries, read once as they are consumed (`notes`: see `UpperNotes`, overlay only). */
  entries(notes?: UpperNotes): Iterable<TarWriteEntry>;
  /**
   * Both of the above for a container that no longer runs, reading the upper dir's xattrs once
   * (a RUN step or a commit needs the changes and then the layer of one unchanging upper dir).
   */
  capture(): { changes: Change[]; writeLayer(file: string): Promise<Layer & { path: string }> };
  /** Forget the changes. */
  reset(): void;
  /**
   * Copy directories of the merged view (image + changes) into host directories, keeping modes,
   * owners, times, xattrs and hard links (`cp -a`), the directory's own metadata included: a
   * volume's copy-up. Paths that are not directories in the view (absent, a file, or reached
   * through a symlink) are skipped. Resolves to the paths copied.
   */
  copyOut(items: ReadonlyArray<{ path: string; dest: string }>): Promise<string[]>;
}

export function writableDir(root: string, id?: string): string {
  return id === undefined ? join(root, 'writable') : join(root, 'writable', id);
}

const ID_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

function readRecord(root: string, id: string): WritableLayerRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(writableDir(root, id), 'layer.json'), 'utf8')) as WritableLayerRecord;
  } catch {
    return undefined;
  }
}

function writeRecord(root: string, rec: WritableLayerRecord): void {
  const dir = writableDir(root, rec.id);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.layer.json.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(rec)}\n`);
  renameSync(tmp, join(dir, 'layer.json'));
}

export interface CreateWritableOptions {
  /** Unique id ([a-zA-Z0-9_.-]); a container uses its own ID. */
  id: string;
  /** The image's layers, bottom → top (unpacked once into shared snapshots). */
  layers: readonly Layer[];
  /** A build step's throw-away layer, owned by this process. */
  ephemeral?: boolean;
  /** ISO time for the record (default now). */
  created?: string;
  /** Called with how many snapshots were unpacked and reused (for -v output). */
  onSnapshots?: (unpacked: number, reused: number) => void;
  /** Crash tests stop here: `layer-recorded`, `snapshot-unpacked` (each, before its rename), `layer-ready`. */
  checkpoint?: (point: string) => void | Promise<void>;
}

/**
 * A new writable layer over `layers`. Its record is written first, so from then on GC sees the
 * snapshots as used and a crash leaves a layer `recoverWritableLayers` can find; then the
 * snapshots are unpacked and the layer's directories made. A failure removes it again.
 */
export async function createWritableLayer(root: string, o: CreateWritableOptions): Promise<WritableLayer> {
  if (!ID_RE.test(o.id)) throw new Error(`invalid writable layer id ${o.id}`);
  const diffIds = await Promise.all(o.layers.map((l) => l.diffId()));
  const rec: WritableLayerRecord = {
    id: o.id,
    snapshots: chainIds(diffIds),
    diffIds,
    mode: overlaySupported() ? 'overlay' : 'copy',
    created: o.created ?? new Date().toISOString(),
    ...(o.ephemeral ? { ephemeral: currentOwner() } : {}),
  };
  writeRecord(root, rec);
  try {
    await o.checkpoint?.('layer-recorded');
    const before = snapshotUnpackCount();
    await ensureSnapshots(root, o.layers, o.checkpoint);
    const unpacked = snapshotUnpackCount() - before;
    o.onSnapshots?.(unpacked, o.layers.length - unpacked);
    const w = layerOf(root, rec);
    w.prepare();
    await o.checkpoint?.('layer-ready');
    return w;
  } catch (err) {
    removeWritableLayer(root, o.id);
    throw err;
  }
}

/** The writable layer `id` (NOT_FOUND when there is none). */
export function writableLayer(root: string, id: string): WritableLayer {
  const rec = readRecord(root, id);
  if (!rec) throw new StrataError('NOT_FOUND', `no writable layer ${id}`);
  return layerOf(root, rec);
}

/** Whether every snapshot under the layer is still on disk (snapshots are a cache: `ensureWritableSnapshots` re-makes them). */
export function writableSnapshotsPresent(root: string, id: string): boolean {
  return writableLayer(root, id).lowerdirs.every((d) => existsSync(d));
}

/** Unpack again the snapshots of a layer that were pruned, from the image's layers (the same diffIDs). */
export async function ensureWritableSnapshots(root: string, id: string, layers: readonly Layer[]): Promise<void> {
  const w = writableLayer(root, id);
  const diffIds = await Promise.all(layers.map((l) => l.diffId()));
  const chain = chainIds(diffIds);
  if (chain.length !== w.snapshots.length || chain.some((c, i) => c !== w.snapshots[i])) {
    throw new StrataError('CONFLICT', `writable layer ${id}: the layers given are not the ones under it`);
  }
  await ensureSnapshots(root, layers);
}

function layerOf(root: string, rec: WritableLayerRecord): WritableLayer {
  const mode = rec.mode;
  const dir = writableDir(root, rec.id);
  const upperdir = join(dir, mode === 'copy' ? 'rootfs' : 'upper');
  const workdir = join(dir, 'work');
  const lowerdirs = [...rec.snapshots].reverse().map((c) => join(snapshotsDir(root), digestHex(c), 'fs'));
  const lowers = (): LowerDir[] =>
    [...rec.snapshots].reverse().map((c, i) => ({ dir: lowerdirs[i], opaque: new Set(readSnapshotMeta(root, c)?.opaque ?? []) }));
  const prepare = () => {
    if (mode === 'overlay') {
      mkdirSync(upperdir, { recursive: true });
      mkdirSync(workdir, { recursive: true });
    } else if (!existsSync(upperdir)) {
      const tmp = `${upperdir}.tmp`;
      rmSync(tmp, { recursive: true, force: true });
      buildCopyRootfs(lowers(), tmp);
      // Complete or absent: a crash mid-copy never leaves a half rootfs under the real name.
      mkdirSync(dir, { recursive: true });
      renameSync(tmp, upperdir);
    }
  };
  return {
    id: rec.id,
    mode,
    dir,
    snapshots: rec.snapshots,
    lowerdirs,
    upperdir,
    workdir,
    prepare,
    // A build step's layer is thrown away or stored (and synced) as a layer: the process's own
    // fsyncs need not reach the disk (dpkg syncs every file it unpacks). A container's do.
    rootfs: () => (mode === 'copy' ? { path: upperdir } : { lowerdirs, upperdir, workdir, ...(rec.ephemeral ? { volatile: true } : {}) }),
    viewDirs: () => (mode === 'copy' ? [upperdir] : [upperdir, ...lowerdirs]),
    changes: () => (mode === 'copy' ? copyChanges(upperdir, lowers()) : upperChanges(upperdir, lowers())),
    writeLayer: (file) => {
      if (mode === 'copy') return writeLayerFile(changeEntries(upperdir, copyChanges(upperdir, lowers())), file);
      return writeLayerFile(upperEntries(upperdir, readTreeXattrs(upperdir)), file);
    },
    entries: (notes) => (mode === 'copy' ? changeEntries(upperdir, copyChanges(upperdir, lowers())) : upperEntries(upperdir, undefined, notes)),
    capture: () => {
      if (mode === 'copy') {
        const changes = copyChanges(upperdir, lowers());
        return { changes, writeLayer: (file) => writeLayerFile(changeEntries(upperdir, changes), file) };
      }
      const xattrs = readTreeXattrs(upperdir);
      return { changes: upperChanges(upperdir, lowers(), xattrs), writeLayer: (file) => writeLayerFile(upperEntries(upperdir, xattrs), file) };
    },
    reset: () => {
      rmSync(upperdir, { recursive: true, force: true });
      rmSync(workdir, { recursive: true, force: true });
      prepare();
    },
    copyOut: async (items) => {
      const view = lowerView(mode === 'copy' ? [{ dir: upperdir, opaque: new Set() }] : [{ dir: upperdir, opaque: opaqueDirs(readTreeXattrs(upperdir)) }, ...lowers()]);
      const rel = (p: string) => p.split('/').filter(Boolean).join('/');
      const todo = items.filter((i) => rel(i.path) && view.lookup(rel(i.path))?.stat.isDirectory());
      if (!todo.length) return [];
      await copyOutOfView({ scratch: join(root, 'tmp'), dirs: mode === 'copy' ? [upperdir] : [upperdir, ...lowerdirs], merged: mode === 'copy', items: todo.map((i) => ({ rel: rel(i.path), dest: i.dest })) });
      return todo.map((i) => i.path);
    },
  };
}

/**
 * Take over a writable layer kept the way strata kept it before cow had its own records: its
 * `upper`/`work` (or `rootfs`) directories in `fromDir` (a container's directory) are moved to
 * `ROOT/writable/<id>/` and the record written. Nothing to do when the layer has a record.
 */
export function adoptWritableLayer(root: string, o: { id: string; snapshots: Digest[]; diffIds: Digest[]; mode: 'overlay' | 'copy'; created: string; fromDir: string }): void {
  if (readRecord(root, o.id)) return;
  const dir = writableDir(root, o.id);
  mkdirSync(dir, { recursive: true });
  for (const n of o.mode === 'copy' ? ['rootfs'] : ['upper', 'work']) {
    if (existsSync(join(o.fromDir, n)) && !existsSync(join(dir, n))) renameSync(join(o.fromDir, n), join(dir, n));
  }
  writeRecord(root, { id: o.id, snapshots: o.snapshots, diffIds: o.diffIds, mode: o.mode, created: o.created });
  layerOf(root, readRecord(root, o.id)!).prepare();
}

/** Remove a writable layer (renamed away first: a half-removed layer never looks like a valid one). */
export function removeWritableLayer(root: string, id: string): void {
  const dir = writableDir(root, id);
  if (!existsSync(dir)) return;
  const trash = join(writableDir(root), `.rm-${id.slice(0, 16)}-${process.pid}-${Date.now().toString(36)}`);
  renameSync(dir, trash);
  rmSync(trash, { recursive: true, force: true });
}

/** Every writable layer's record (build steps' included). */
export function listWritableLayers(root: string): WritableLayerRecord[] {
  const base = writableDir(root);
  if (!existsSync(base)) return [];
  const out: WritableLayerRecord[] = [];
  for (const name of readdirSync(base)) {
    if (name.startsWith('.')) continue;
    const rec = readRecord(root, name);
    if (rec) out.push(rec);
  }
  return out;
}

export interface WritableRecovery {
  /** Build steps' layers whose owner died: removed. */
  removed: string[];
  /** Half-removed layers and half-made snapshots of dead processes: removed. */
  tmpDirs: number;
}

/**
 * Crash recovery, cheap enough for the start of every command that makes or runs layers: a
 * build step's layer whose owner process is gone is removed, and so are temp dirs of dead
 * processes. A layer whose OCI runtime state is still there (`runtime/<id>`: the step's
 * process may still run) is removed only when `killRuntime` is given to end it first —
 * @strata/container's recovery passes @strata/runtime's; cow cannot run the runtime itself.
 */
export async function recoverWritableLayers(root: string, o: { killRuntime?: (stateDir: string, id: string) => Promise<void> } = {}): Promise<WritableRecovery> {
  const report: WritableRecovery = { removed: [], tmpDirs: 0 };
  const base = writableDir(root);
  if (existsSync(base)) {
    for (const name of readdirSync(base)) {
      if (name.startsWith('.rm-')) {
        const m = /-(\d+)-[0-9a-z]+$/.exec(name);
        if (!m || !ownerAlive({ pid: Number(m[1]), start: '' })) {
          rmSync(join(base, name), { recursive: true, force: true });
          report.tmpDirs++;
        }
        continue;
      }
      const rec = readRecord(root, name);
      if (!rec?.ephemeral || ownerAlive(rec.ephemeral)) continue;
      const stateDir = join(base, name, 'runtime');
      if (existsSync(join(stateDir, name))) {
        if (!o.killRuntime) continue;
        await o.killRuntime(stateDir, name);
      }
      removeWritableLayer(root, name);
      report.removed.push(name);
    }
  }
  const snaps = snapshotsDir(root);
  if (existsSync(snaps)) {
    for (const name of readdirSync(snaps)) {
      const m = /^\.(?:tmp|rm)-[0-9a-f]+-(\d+)-/.exec(name);
      if (m && !ownerAlive({ pid: Number(m[1]), start: '' })) {
        rmSync(join(snaps, name), { recursive: true, force: true });
        report.tmpDirs++;
      }
    }
  }
  return report;
}

/** ChainIDs of snapshots some writable layer (containers' and running build steps') stands on. */
export function snapshotsInUse(root: string): Set<Digest> {
  const out = new Set<Digest>();
  for (const l of listWritableLayers(root)) for (const s of l.snapshots) out.add(s);
  return out;
}

/**
 * Remove snapshots no writable layer uses, except `keep` (e.g. the chainIDs of stored images, to
 * keep them warm). Run the recoveries first so dead build steps do not pin anything.
 */
export function pruneSnapshots(root: string, opts: { keep?: Iterable<Digest>; dryRun?: boolean } = {}): Digest[] {
  const used = snapshotsInUse(root);
  for (const k of opts.keep ?? []) used.add(k);
  const removed: Digest[] = [];
  for (const s of listSnapshots(root)) {
    if (used.has(s.chainId)) continue;
    if (!opts.dryRun) removeSnapshot(root, s.chainId);
    removed.push(s.chainId);
  }
  return removed;
}
