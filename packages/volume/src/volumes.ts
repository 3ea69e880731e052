import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StrataError } from '@strata/errors';

/** Docker ≥ 23 marks volumes made for `-v /path`, `--mount type=volume` without a source and `VOLUME` with this label. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

/**
 * `ROOT/volumes/<name>/volume.json`. Beside it: `_data/` (the mount point, as Docker's
 * /var/lib/docker/volumes/NAME/_data) and `refs/<container id>` (one empty file per container
 * that mounts the volume: the volume's own record of who uses it).
 */
export interface VolumeRecord {
  Name: string;
  /** RFC 3339, whole seconds, UTC. */
  CreatedAt: string;
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
}

/** A volume as `volume inspect` shows it (Docker's fields, in Docker's order). */
export interface VolumeInspect {
  CreatedAt: string;
  Driver: 'local';
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: 'local';
}

export interface Volume {
  readonly name: string;
  readonly record: VolumeRecord;
  /** The host directory containers mount. */
  readonly mountpoint: string;
  readonly anonymous: boolean;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function volumesDir(root: string): string {
  return join(root, 'volumes');
}

function dirOf(root: string, name: string): string {
  return join(volumesDir(root), name);
}

/** Docker's checks and messages for a local volume name. */
export function checkVolumeName(name: string): void {
  if (name.length < 2 && /^[a-zA-Z0-9]*$/.test(name)) {
    throw new StrataError('USAGE', `create ${name}: volume name is too short, names should be at least two alphanumeric characters`);
  }
  if (!NAME_RE.test(name)) {
    throw new StrataError('USAGE', `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
}

/** Docker's CreatedAt: RFC 3339 in whole seconds (in UTC here, so no output depends on the time zone). */
export function createdAt(now: Date): string {
  return `${now.toISOString().slice(0, 19)}Z`;
}

function volumeOf(root: string, rec: VolumeRecord): Volume {
  return { name: rec.Name, record: rec, mountpoint: join(dirOf(root, rec.Name), '_data'), anonymous: rec.Labels?.[ANONYMOUS_LABEL] !== undefined };
}

function readRecord(root: string, name: string): VolumeRecord | undefined {
  if (!NAME_RE.test(name)) return undefined;
  try {
    return JSON.parse(readFileSync(join(dirOf(root, name), 'volume.json'), 'utf8')) as VolumeRecord;
  } catch {
    return undefined;
  }
}

export interface CreateVolumeOptions {
  /** Default: an anonymous volume's 64-hex name. */
  name?: string;
  labels?: Record<string, string>;
  /** Driver options (`volume create -o`): the local driver's mount options are not supported. */
  options?: Record<string, string>;
  anonymous?: boolean;
  now: Date;
}

/**
 * Create a volume; an existing one of that name is returned as it is (Docker's `volume create`
 * is idempotent), unless the labels asked for differ.
 */
export function createVolume(root: string, o: CreateVolumeOptions): Volume {
  const name = o.name ?? randomBytes(32).toString('hex');
  checkVolumeName(name);
  if (o.options && Object.keys(o.options).length) {
    throw new StrataError('UNSUPPORTED', `create ${name}: driver options (${Object.keys(o.options).join(', ')}) are not supported by strata's local volumes`);
  }
  const existing = readRecord(root, name);
  if (existing) {
    const want = o.labels ?? {};
    const have = existing.Labels ?? {};
    if (Object.keys(want).some((k) => have[k] !== want[k])) {
      throw new StrataError('CONFLICT', `create ${name}: a volume with the name ${name} already exists with different labels`);
    }
    return volumeOf(root, existing);
  }
  const labels = o.anonymous ? { ...(o.labels ?? {}), [ANONYMOUS_LABEL]: '' } : { ...(o.labels ?? {}) };
  const rec: VolumeRecord = { Name: name, CreatedAt: createdAt(o.now), Labels: sortKeys(labels), Options: o.anonymous ? null : {} };
  // Made complete under a temp name, then renamed: a crash never leaves a half volume.
  const base = volumesDir(root);
  const tmp = join(base, `.tmp-${name.slice(0, 16)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(join(tmp, '_data'), { recursive: true });
  mkdirSync(join(tmp, 'refs'));
  writeFileSync(join(tmp, 'volume.json'), `${JSON.stringify(rec, null, 2)}\n`);
  try {
    renameSync(tmp, dirOf(root, name));
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    const now = readRecord(root, name);
    if (now) return volumeOf(root, now);
    throw new StrataError('IO_ERROR', `create ${name}: ${(err as Error).message}`, { cause: err });
  }
  return volumeOf(root, rec);
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A volume by name; NOT_FOUND with Docker's "no such volume" otherwise. */
export function getVolume(root: string, name: string): Volume {
  const rec = readRecord(root, name);
  if (!rec) throw new StrataError('NOT_FOUND', `no such volume: ${name}`);
  return volumeOf(root, rec);
}

export function findVolume(root: string, name: string): Volume | undefined {
  const rec = readRecord(root, name);
  return rec ? volumeOf(root, rec) : undefined;
}

/** Every volume, sorted by name. */
export function listVolumes(root: string): Volume[] {
  const base = volumesDir(root);
  if (!existsSync(base)) return [];
  const out: Volume[] = [];
  for (const n of readdirSync(base).sort()) {
    if (n.startsWith('.')) continue;
    const rec = readRecord(root, n);
    if (rec) out.push(volumeOf(root, rec));
  }
  return out;
}

export function inspectVolume(v: Volume): VolumeInspect {
  return { CreatedAt: v.record.CreatedAt, Driver: 'local', Labels: v.record.Labels, Mountpoint: v.mountpoint, Name: v.name, Options: v.record.Options, Scope: 'local' };
}

/** Containers that mount the volume (any state). */
export function volumeUsers(root: string, name: string): string[] {
  try {
    return readdirSync(join(dirOf(root, name), 'refs')).sort();
  } catch {
    return [];
  }
}

/** Record that a container mounts the volume (before it can be seen using it). */
export function addVolumeUser(root: string, name: string, containerId: string): void {
  const refs = join(dirOf(root, name), 'refs');
  mkdirSync(refs, { recursive: true });
  writeFileSync(join(refs, containerId), '');
}

export function removeVolumeUser(root: string, name: string, containerId: string): void {
  rmSync(join(dirOf(root, name), 'refs', containerId), { force: true });
}

/** Whether the volume's data directory is empty (a copy-up fills only an empty volume). */
export function volumeIsEmpty(v: Volume): boolean {
  try {
    return readdirSync(v.mountpoint).length === 0;
  } catch {
    return true;
  }
}

/** Bytes the volume's files take (each inode once): what removing it gives back. */
export function volumeSize(v: Volume): number {
  return treeBytes(v.mountpoint);
}

/** Bytes of the files under `dir`, each inode once (0 when it does not exist). */
export function treeBytes(dir: string): number {
  const seen = new Set<string>();
  let total = 0;
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      const st = lstatSync(p);
      const key = `${st.dev}:${st.ino}`;
      if (!seen.has(key)) {
        seen.add(key);
        if (!st.isDirectory()) total += st.size;
      }
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return total;
}

/**
 * Remove a volume. One that containers use is refused (Docker's "volume is in use") unless
 * `force`; `isRunning` tells which users run right now, and those are refused even with
 * `force` (Docker refuses both: strata's -f lets a stopped container's volume go).
 */
export function removeVolume(root: string, name: string, o: { force?: boolean; isRunning?: (containerId: string) => boolean } = {}): void {
  const v = getVolume(root, name);
  const users = volumeUsers(root, v.name);
  const running = users.filter((u) => o.isRunning?.(u));
  if (users.length && (!o.force || running.length)) {
    throw new StrataError('IN_USE', `remove ${v.name}: volume is in use - [${(running.length ? running : users).join(', ')}]`, {
      hint: running.length ? 'stop the container first' : 'remove the containers first, or use -f',
    });
  }
  const trash = join(volumesDir(root), `.rm-${v.name.slice(0, 16)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  renameSync(dirOf(root, v.name), trash);
  rmSync(trash, { recursive: true, force: true });
}

/** `system df`'s Local Volumes row: a volume is active while a container uses it. */
export function volumesUsage(root: string): { total: number; active: number; size: number; reclaimable: number } {
  const out = { total: 0, active: 0, size: 0, reclaimable: 0 };
  for (const v of listVolumes(root)) {
    const size = volumeSize(v);
    out.total++;
    out.size += size;
    if (volumeUsers(root, v.name).length) out.active++;
    else out.reclaimable += size;
  }
  return out;
}

/** Temp and half-removed volume dirs of processes that are gone, and their half-done imports (`.import-<pid>-…` in a volume). */
export function cleanVolumeTemps(root: string, alive: (pid: number) => boolean): number {
  const base = volumesDir(root);
  if (!existsSync(base)) return 0;
  let n = 0;
  for (const name of readdirSync(base)) {
    const m = /^\.(?:tmp|rm)-.*-(\d+)-[0-9a-f]+$/.exec(name);
    if (m && !alive(Number(m[1]))) {
      rmSync(join(base, name), { recursive: true, force: true });
      n++;
      continue;
    }
    if (name.startsWith('.')) continue;
    let inside: string[];
    try {
      inside = readdirSync(join(base, name));
    } catch {
      continue;
    }
    for (const i of inside) {
      const im = /^\.import-(\d+)-[0-9a-f]+$/.exec(i);
      if (im && !alive(Number(im[1]))) {
        rmSync(join(base, name, i), { recursive: true, force: true });
        n++;
      }
    }
  }
  return n;
}
