import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StrataError } from '@strata/errors';
import type { Digest } from '@strata/oci';
import { ownerAlive, type Owner } from './owner';
import { listSnapshots, removeSnapshot, snapshotsDir } from './snapshots';

export type ContainerState = 'created' | 'running' | 'exited';

/** What the container runs (Docker's Config, resolved at create time). */
export interface ContainerConfig {
  args: string[];
  env: string[];
  cwd: string;
  user: string;
  hostname: string;
  network: 'none' | 'host';
  tty: boolean;
  openStdin: boolean;
  runtime?: string;
  /** The image's ENTRYPOINT / CMD as the container resolved them (`args` = both); for `commit`. */
  entrypoint?: string[];
  cmd?: string[];
  /** -v / --mount / --tmpfs (the shape @strata/runtime's MountSpec takes). */
  mounts?: Array<{ type: 'bind'; source: string; target: string; readonly?: boolean } | { type: 'tmpfs'; target: string; size?: number; mode?: number }>;
  readonlyRootfs?: boolean;
}

/**
 * `ROOT/containers/<id>/container.json`. The store reads `image` (images in use are not removed)
 * and `snapshots` (chainIDs in use are not garbage-collected). Beside it: `upper/`, `work/`
 * (overlay) or `rootfs/` (copying fallback), `runtime/` (the OCI runtime's state root),
 * `bundle/`, `container-log.jsonl` (written by the CLI).
 */
export interface ContainerRecord {
  id: string;
  name: string;
  /** Image ID (config digest); null for build steps, which run on bare layers. */
  image: Digest | null;
  /** The reference the user gave. */
  imageRef?: string;
  created: string;
  state: ContainerState;
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
  config: ContainerConfig;
  /** Snapshot chainIDs, bottom → top: the container's lower layers. */
  snapshots: Digest[];
  diffIds: Digest[];
  cow: 'overlay' | 'copy';
  /** The process running the container right now (strata run, a -d monitor, a build). */
  owner?: Owner;
  /** A build step's container: hidden from `container ls`, removed when its owner is gone. */
  ephemeral?: boolean;
  autoRemove?: boolean;
  /** Detached: output goes to stdout.log / stderr.log. */
  logs?: boolean;
}

export function containersDir(root: string): string {
  return join(root, 'containers');
}

export function containerDir(root: string, id: string): string {
  return join(containersDir(root), id);
}

export function readContainer(root: string, id: string): ContainerRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(containerDir(root, id), 'container.json'), 'utf8')) as ContainerRecord;
  } catch {
    return undefined;
  }
}

/** Atomic replace (temp + rename): readers never see a half-written record. */
export function writeContainer(root: string, rec: ContainerRecord): void {
  const dir = containerDir(root, rec.id);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.container.json.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(rec, null, 2)}\n`);
  renameSync(tmp, join(dir, 'container.json'));
}

export function updateContainer(root: string, id: string, patch: Partial<ContainerRecord>): ContainerRecord {
  const rec = readContainer(root, id);
  if (!rec) throw new StrataError('NOT_FOUND', `no such container: ${id}`);
  const next = { ...rec, ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete (next as Record<string, unknown>)[k];
  writeContainer(root, next);
  return next;
}

export function listContainers(root: string, opts: { ephemeral?: boolean } = {}): ContainerRecord[] {
  const dir = containersDir(root);
  if (!existsSync(dir)) return [];
  const out: ContainerRecord[] = [];
  for (const id of readdirSync(dir)) {
    const rec = readContainer(root, id);
    if (rec && (opts.ephemeral || !rec.ephemeral)) out.push(rec);
  }
  return out.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
}

/**
 * A container by full ID, unique ID prefix or name (Docker's lookup order).
 */
export function findContainer(root: string, ref: string): ContainerRecord {
  const all = listContainers(root);
  const exact = all.find((c) => c.id === ref || c.name === ref);
  if (exact) return exact;
  const byPrefix = ref.length >= 1 && /^[0-9a-f]+$/.test(ref) ? all.filter((c) => c.id.startsWith(ref)) : [];
  if (byPrefix.length === 1) return byPrefix[0];
  if (byPrefix.length > 1) throw new StrataError('CONFLICT', `multiple containers match ${ref}`);
  throw new StrataError('NOT_FOUND', `no such container: ${ref}`);
}

export function removeContainerDir(root: string, id: string): void {
  const dir = containerDir(root, id);
  if (!existsSync(dir)) return;
  // Rename first: a half-removed container never looks like a valid one.
  const trash = join(containersDir(root), `.rm-${id.slice(0, 16)}-${process.pid}`);
  renameSync(dir, trash);
  rmSync(trash, { recursive: true, force: true });
}

/** Ask the OCI runtime to forget a container (kill + delete); nothing if it never knew it. */
export function killRuntimeContainer(runtime: string | undefined, stateDir: string, id: string): Promise<void> {
  if (!existsSync(join(stateDir, id))) return Promise.resolve();
  const bins = runtime ? [runtime] : ['runc', 'crun'];
  return new Promise((resolve) => {
    const next = (i: number) => {
      if (i >= bins.length) {
        rmSync(join(stateDir, id), { recursive: true, force: true });
        resolve();
        return;
      }
      execFile(bins[i], ['--root', stateDir, 'delete', '--force', id], (err) => (err ? next(i + 1) : (rmSync(join(stateDir, id), { recursive: true, force: true }), resolve())));
    };
    next(0);
  });
}

export interface RecoveryReport {
  /** Containers whose owner died while running: killed and marked exited. */
  stopped: string[];
  /** Ephemeral (build) containers of dead owners: removed. */
  removed: string[];
  /** Half-made snapshot and removal dirs of dead processes: removed. */
  tmpDirs: number;
}

/**
 * Crash recovery, cheap enough to run at the start of every container/build command: a
 * container marked running whose owner process is gone (SIGKILL, OOM, reboot) gets its runtime
 * state killed and deleted (its overlay mount lived only in the container's private mount
 * namespace, so it is gone with the processes) and is marked exited (137); a build step's
 * container is removed; temp dirs of dead processes are deleted.
 */
export async function recoverContainers(root: string): Promise<RecoveryReport> {
  const report: RecoveryReport = { stopped: [], removed: [], tmpDirs: 0 };
  const dir = containersDir(root);
  if (existsSync(dir)) {
    for (const name of readdirSync(dir)) {
      if (name.startsWith('.rm-')) {
        rmSync(join(dir, name), { recursive: true, force: true });
        report.tmpDirs++;
        continue;
      }
      const rec = readContainer(root, name);
      if (!rec || rec.state !== 'running' || ownerAlive(rec.owner)) continue;
      await killRuntimeContainer(rec.config.runtime, join(containerDir(root, rec.id), 'runtime'), rec.id);
      rmSync(join(containerDir(root, rec.id), 'bundle'), { recursive: true, force: true });
      if (rec.ephemeral) {
        removeContainerDir(root, rec.id);
        report.removed.push(rec.id);
      } else {
        updateContainer(root, rec.id, { state: 'exited', exitCode: 137, finishedAt: new Date().toISOString(), owner: undefined });
        report.stopped.push(rec.id);
      }
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

/** ChainIDs of snapshots some container (including running build steps) uses. */
export function snapshotsInUse(root: string): Set<Digest> {
  const out = new Set<Digest>();
  for (const c of listContainers(root, { ephemeral: true })) for (const s of c.snapshots) out.add(s);
  return out;
}

/**
 * Remove snapshots no container uses, except `keep` (e.g. the chainIDs of stored images, to keep
 * them warm). Run `recoverContainers` first so dead build steps do not pin anything.
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
