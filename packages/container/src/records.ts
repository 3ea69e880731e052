import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ownerAlive, writableLayer, type Owner } from '@strata/cow';
import { treeBytes } from '@strata/volume';
import { StrataError } from '@strata/errors';
import type { PortBinding, PortSpec } from '@strata/network';
import type { Digest } from '@strata/oci';
import type { Resources, SecurityOptions } from '@strata/runtime';

export type ContainerState = 'created' | 'running' | 'exited';

/** `bridge` (default), `host`, `none`, or `container:<name|id>` (share that container's network). */
export type NetworkMode = 'bridge' | 'host' | 'none' | `container:${string}`;

/** A mount of the container (`-v`, `--mount`, `--tmpfs`, `--volumes-from`, VOLUME). */
export type MountConfig =
  | { type: 'volume'; source: string; target: string; readonly?: boolean; nocopy?: boolean; anonymous?: boolean }
  | { type: 'bind'; source: string; target: string; readonly?: boolean }
  | { type: 'tmpfs'; target: string; size?: number; mode?: number; readonly?: boolean };

/** What the container runs and with what (Docker's Config + HostConfig, resolved at create time). */
export interface ContainerConfig {
  args: string[];
  env: string[];
  cwd: string;
  user: string;
  hostname: string;
  network: NetworkMode;
  tty: boolean;
  openStdin: boolean;
  runtime?: string;
  /** The image's ENTRYPOINT / CMD as the container resolved them (`args` = both); for `commit`. */
  entrypoint?: string[];
  cmd?: string[];
  mounts?: MountConfig[];
  readonlyRootfs?: boolean;
  /** `-p` / `-P`, as asked (host port 0 = ephemeral). */
  publish?: PortSpec[];
  /** The image's EXPOSE (`80/tcp`), for `-P` and inspect. */
  exposed?: string[];
  security?: SecurityOptions;
  /** The `--security-opt` values as given (for inspect). */
  securityOpt?: string[];
  resources?: Resources;
  /** `--volumes-from` as given (for inspect). */
  volumesFrom?: string[];
}

/** What the last start set up on the bridge (cleared when the container stops). */
export interface NetworkSettings {
  ip: string;
  prefixLen: number;
  gateway: string;
  mac: string;
  ports: PortBinding[];
  netns: string;
}

/**
 * `ROOT/containers/<id>/container.json`, owned by this package (other packages ask it, never read
 * the file). Beside it: `container-log.jsonl` (output, both streams in order), `bundle/` and
 * `runtime/` (the OCI runtime's bundle and state root while running), `monitor.log` (a detached
 * container's monitor). The writable layer is @strata/cow's (`ROOT/writable/<id>`).
 */
export interface ContainerRecord {
  id: string;
  name: string;
  /** Image ID (config digest). */
  image: Digest;
  /** The reference the user gave. */
  imageRef?: string;
  created: string;
  state: ContainerState;
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
  config: ContainerConfig;
  /** The process running the container right now (a foreground `run`, a `-d` monitor). */
  owner?: Owner;
  autoRemove?: boolean;
  network?: NetworkSettings;
}

export function containersDir(root: string): string {
  return join(root, 'containers');
}

export function containerDir(root: string, id: string): string {
  return join(containersDir(root), id);
}

/** The OCI runtime's state root of a container. */
export function runtimeDir(root: string, id: string): string {
  return join(containerDir(root, id), 'runtime');
}

export function readContainer(root: string, id: string): ContainerRecord | undefined {
  if (!/^[0-9a-f]{64}$/.test(id)) return undefined;
  try {
    const rec = JSON.parse(readFileSync(join(containerDir(root, id), 'container.json'), 'utf8')) as ContainerRecord & { ephemeral?: boolean };
    // A build step's record of strata before build steps stopped being containers: not one.
    if (rec.ephemeral || !rec.image) return undefined;
    return rec;
  } catch {
    return undefined;
  }
}

/** Atomic replace (temp + rename): readers never see a half-written record. */
export function writeContainer(root: string, rec: ContainerRecord): void {
  const dir = containerDir(root, rec.id);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.container.json.${process.pid}.${randomBytes(3).toString('hex')}.tmp`);
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

/** Every container, newest first. */
export function listContainers(root: string): ContainerRecord[] {
  const dir = containersDir(root);
  if (!existsSync(dir)) return [];
  const out: ContainerRecord[] = [];
  for (const id of readdirSync(dir)) {
    const rec = readContainer(root, id);
    if (rec) out.push(rec);
  }
  return out.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : a.id < b.id ? 1 : -1));
}

/** A container by full ID, name, or unique ID prefix (Docker's lookup order). */
export function findContainer(root: string, ref: string): ContainerRecord {
  const all = listContainers(root);
  const exact = all.find((c) => c.id === ref || c.name === ref || `/${c.name}` === ref);
  if (exact) return exact;
  const byPrefix = /^[0-9a-f]+$/.test(ref) ? all.filter((c) => c.id.startsWith(ref)) : [];
  if (byPrefix.length === 1) return byPrefix[0];
  if (byPrefix.length > 1) throw new StrataError('CONFLICT', `multiple containers match ${ref}`);
  throw new StrataError('NOT_FOUND', `no such container: ${ref}`);
}

/** Remove the container's directory (renamed away first: a half-removed container never looks valid). */
export function removeContainerDir(root: string, id: string): void {
  const dir = containerDir(root, id);
  if (!existsSync(dir)) return;
  const trash = join(containersDir(root), `.rm-${id.slice(0, 16)}-${process.pid}-${randomBytes(3).toString('hex')}`);
  renameSync(dir, trash);
  rmSync(trash, { recursive: true, force: true });
}

/** Whether the container runs now (its owner process is alive). */
export function containerRunning(root: string, id: string): boolean {
  const rec = readContainer(root, id);
  return rec?.state === 'running' && ownerAlive(rec.owner);
}

/** `system df`'s Containers row: running ones are active; size is each writable layer's (Docker's SizeRw). */
export function containersUsage(root: string): { total: number; active: number; size: number; reclaimable: number } {
  const out = { total: 0, active: 0, size: 0, reclaimable: 0 };
  for (const c of listContainers(root)) {
    let size = 0;
    try {
      size = treeBytes(writableLayer(root, c.id).upperdir);
    } catch {
      // no writable layer (being removed)
    }
    out.total++;
    out.size += size;
    if (c.state === 'running' && ownerAlive(c.owner)) out.active++;
    else out.reclaimable += size;
  }
  return out;
}

/** Image ID → IDs of the containers made from it (image-store asks before removing an image). */
export function imagesInUse(root: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const c of listContainers(root)) out.set(c.image, [...(out.get(c.image) ?? []), c.id]);
  return out;
}
