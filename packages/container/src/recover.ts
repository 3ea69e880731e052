import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { processStartTime } from '@strata/cas/process';
import { adoptWritableLayer, ownerAlive, recoverWritableLayers, removeWritableLayer, type Owner } from '@strata/cow';
import type { Digest } from '@strata/oci';
import { attachedIds, detach } from '@strata/network';
import { DEFAULT_RUN_DIR } from '@strata/network/run-dir';
import { deleteRuntimeState } from '@strata/runtime';
import { cleanVolumeTemps, listVolumes, removeVolume, removeVolumeUser, volumeUsers } from '@strata/volume';
import { claimCrashed, crashedEntries, liveEntries, unregisterLive, waitRecovered } from './live';
import { containerDir, containersDir, listContainers, readContainer, removeContainerDir, runtimeDir, updateContainer, writeContainer, type ContainerRecord } from './records';

export interface RecoveryReport {
  /** Containers whose owner died while running: stopped and marked exited (137). */
  stopped: string[];
  /** `--rm` containers (and build steps) whose owner died: removed. */
  removed: string[];
  /** Half-made or half-removed dirs of dead processes: removed. */
  tmpDirs: number;
}

export interface RecoverOptions {
  runDir?: string;
}

const alive = (pid: number) => processStartTime(pid) !== undefined;

/** Remove the anonymous volumes of a container that nothing else uses (`rm -v`, `run --rm`). */
export function removeAnonymousVolumes(root: string, rec: ContainerRecord): string[] {
  const out: string[] = [];
  for (const m of rec.config.mounts ?? []) {
    if (m.type !== 'volume' || !m.source) continue;
    removeVolumeUser(root, m.source, rec.id);
    if (!m.anonymous || volumeUsers(root, m.source).length) continue;
    try {
      removeVolume(root, m.source);
      out.push(m.source);
    } catch {
      // gone already, or taken again: leave it
    }
  }
  return out;
}

/** Drop volume references of containers that no longer exist (a crash between two removals). */
export function reconcileVolumeUsers(root: string): void {
  for (const v of listVolumes(root)) for (const id of volumeUsers(root, v.name)) if (!readContainer(root, id)) removeVolumeUser(root, v.name, id);
}

/** Forget a container's volume references, then its writable layer and directory. */
export function dropContainer(root: string, rec: ContainerRecord, o: { volumes?: boolean } = {}): void {
  if (o.volumes) removeAnonymousVolumes(root, rec);
  else for (const m of rec.config.mounts ?? []) if (m.type === 'volume' && m.source) removeVolumeUser(root, m.source, rec.id);
  removeWritableLayer(root, rec.id);
  removeContainerDir(root, rec.id);
}

/**
 * Undo what a dead owner left of a running container: the runtime's container (killed and
 * deleted), its network (CNI DEL, namespace), its live entry, the bundle; then the record says
 * exited (137, as a SIGKILL) — or, for `--rm`, the container is removed with its anonymous volumes.
 */
async function cleanupDead(root: string, id: string, runDir: string): Promise<'stopped' | 'removed' | undefined> {
  const rec = readContainer(root, id);
  await deleteRuntimeState({ runtime: rec?.config.runtime, stateDir: runtimeDir(root, id), id });
  let teardown: unknown;
  try {
    // a teardown handed to a cleanup process that still runs is waited for: recovery leaves nothing
    await detach(id, { runDir, waitForOwnerMs: 30_000 });
  } catch (err) {
    // A network teardown that failed keeps its own record: recoverHost tries it again.
    teardown = err;
  }
  let outcome: 'stopped' | 'removed' | undefined;
  try {
    if (rec) {
      rmSync(join(containerDir(root, id), 'bundle'), { recursive: true, force: true });
      if (rec.autoRemove) {
        dropContainer(root, rec, { volumes: true });
        outcome = 'removed';
      } else {
        updateContainer(root, id, { state: 'exited', exitCode: 137, finishedAt: new Date().toISOString(), owner: undefined, network: undefined });
        outcome = 'stopped';
      }
    }
  } finally {
    // Last: a command waiting for this recovery (waitRecovered) then reads the final record.
    unregisterLive(id, runDir);
  }
  if (teardown) throw teardown;
  return outcome;
}

/**
 * Crash recovery of one store, cheap enough for the start of every container command: running
 * containers whose owner is gone (SIGKILL, OOM, reboot) are cleaned up (`cleanupDead`); build
 * steps' writable layers of dead owners are removed, their runtime ended first; temp dirs of dead
 * processes go.
 */
/**
 * Records strata wrote before this package owned them: a build step's (cow's old ephemeral
 * records; removed once its process is gone, its runtime ended) and a container's writable layer
 * kept in its own directory (handed to cow's records).
 */
async function migrateLegacy(root: string): Promise<void> {
  const dir = containersDir(root);
  if (!existsSync(dir)) return;
  for (const id of readdirSync(dir)) {
    if (!/^[0-9a-f]{64}$/.test(id)) continue;
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(readFileSync(join(dir, id, 'container.json'), 'utf8')) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (raw.ephemeral) {
      if (ownerAlive(raw.owner as Owner | undefined)) continue;
      await deleteRuntimeState({ stateDir: runtimeDir(root, id), id });
      removeContainerDir(root, id);
    } else if (Array.isArray(raw.snapshots)) {
      adoptWritableLayer(root, {
        id,
        snapshots: raw.snapshots as Digest[],
        diffIds: (raw.diffIds ?? []) as Digest[],
        mode: raw.cow === 'copy' ? 'copy' : 'overlay',
        created: String(raw.created ?? ''),
        fromDir: join(dir, id),
      });
      const { snapshots: _s, diffIds: _d, cow: _c, ...rest } = raw;
      writeContainer(root, rest as unknown as ContainerRecord);
    }
  }
}

export async function recover(root: string, o: RecoverOptions = {}): Promise<RecoveryReport> {
  const runDir = o.runDir ?? DEFAULT_RUN_DIR;
  const report: RecoveryReport = { stopped: [], removed: [], tmpDirs: 0 };
  await migrateLegacy(root);
  if (existsSync(containersDir(root))) {
    for (const rec of listContainers(root)) {
      if (rec.state !== 'running' || ownerAlive(rec.owner)) continue;
      const claim = claimCrashed(rec.id, runDir);
      if (claim === 'busy') continue; // its owner lives after all
      if (claim === 'recovering') {
        // another command (perhaps of another store: recoverHost) is cleaning it up: wait for it, so
        // that what this command reports is the state the cleanup ends in
        await waitRecovered(rec.id, runDir);
        continue;
      }
      // 'none': another command finished it just now (the record says so then), or never had an entry
      if (claim === 'none' && readContainer(root, rec.id)?.state !== 'running') continue;
      const r = await cleanupDead(root, rec.id, runDir);
      if (r) report[r].push(rec.id);
    }
  }
  const layers = await recoverWritableLayers(root, { killRuntime: (stateDir, id) => deleteRuntimeState({ stateDir, id }) });
  report.removed.push(...layers.removed);
  report.tmpDirs += layers.tmpDirs + cleanVolumeTemps(root, alive);
  return report;
}

/**
 * Host-wide crash recovery (what `crashCheck` found): every live entry whose owner is gone is
 * cleaned up in its own store, whatever store this command uses; network teardown records that
 * no live container owns (a crash between the two writes) are torn down too.
 */
export async function recoverHost(o: RecoverOptions = {}): Promise<string[]> {
  const runDir = o.runDir ?? DEFAULT_RUN_DIR;
  const done: string[] = [];
  for (const e of crashedEntries(runDir)) {
    if (claimCrashed(e.id, runDir) !== 'claimed') continue; // another command is on it
    await cleanupDead(e.root, e.id, runDir);
    done.push(e.id);
  }
  const attached = attachedIds({ runDir });
  const live = new Set(liveEntries(runDir).map((e) => e.id));
  for (const id of attached) {
    if (live.has(id)) continue;
    await detach(id, { runDir });
    done.push(id);
  }
  return done;
}
