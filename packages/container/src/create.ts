import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { hostname as hostHostname } from 'node:os';
import { createWritableLayer, removeWritableLayer } from '@strata/cow';
import { StrataError, wrapError } from '@strata/errors';
import { openStore } from '@strata/image-store';
import { parsePublish, publishAll, type PortSpec } from '@strata/network';
import type { Digest } from '@strata/oci';
import { capabilitySet, findRuntime, parseSeccompProfile, type Resources, type SecurityOptions } from '@strata/runtime';
import { addVolumeUser, createVolume, findVolume, removeVolume, removeVolumeUser, volumeIsEmpty } from '@strata/volume';
import { parseBytes, parseMountFlag, parseTmpfsFlag, parseVolumeFlag, parseVolumesFrom } from './flags';
import { recover } from './recover';
import { findContainer, listContainers, removeContainerDir, writeContainer, type ContainerRecord, type MountConfig, type NetworkMode } from './records';

export interface CreateOptions {
  /** Image reference or ID. */
  image: string;
  /** Command and arguments (default: the image's ENTRYPOINT + CMD); a leading `--` is dropped. */
  command?: string[];
  name?: string;
  /** `--rm`: remove the container and its anonymous volumes when it exits. */
  rm?: boolean;
  interactive?: boolean;
  tty?: boolean;
  /** `-e K=V`, or `-e K` (value from `envSource`, dropped when unset there). */
  env?: string[];
  envSource?: NodeJS.ProcessEnv;
  workdir?: string;
  user?: string;
  /** `bridge` (default), `host`, `none`, `container:NAME|ID`. */
  network?: string;
  entrypoint?: string;
  runtime?: string;
  hostname?: string;
  /** `-v` specs. */
  volume?: string[];
  /** `--mount` specs. */
  mount?: string[];
  /** `--tmpfs` specs. */
  tmpfs?: string[];
  volumesFrom?: string[];
  readOnly?: boolean;
  /** `-p` specs. */
  publish?: string[];
  /** `-P`. */
  publishAll?: boolean;
  /** `--expose` ports (added to the image's EXPOSE). */
  expose?: string[];
  /** `--security-opt` values: `seccomp=unconfined|FILE`, `no-new-privileges[=true|false]`. */
  securityOpt?: string[];
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  /** `--memory 32m`, `--memory-swap`, `--cpus 0.5`, `--pids-limit 20`. */
  memory?: string;
  memorySwap?: string;
  cpus?: string;
  pidsLimit?: string;
  /** The time of the records (default now). */
  now?: Date;
  /** Lines for people (warnings, -v detail). */
  log?: (line: string) => void;
  /** Crash tests stop here: `record-written`, the writable layer's points, `volumes-ready`. */
  checkpoint?: (point: string) => void | Promise<void>;
}

const ADJECTIVES = ['brave', 'calm', 'eager', 'fond', 'gentle', 'happy', 'jolly', 'keen', 'lucid', 'merry', 'nifty', 'quirky', 'serene', 'vivid', 'witty', 'zen'];
const NOUNS = ['babbage', 'curie', 'darwin', 'euler', 'fermi', 'gauss', 'hopper', 'kepler', 'lovelace', 'noether', 'pascal', 'ritchie', 'shannon', 'turing', 'wozniak', 'yalow'];

function randomName(taken: Set<string>): string {
  for (;;) {
    const b = randomBytes(3);
    const n = `${ADJECTIVES[b[0] % ADJECTIVES.length]}_${NOUNS[b[1] % NOUNS.length]}`;
    const name = taken.has(n) ? `${n}${b[2] % 10}` : n;
    if (!taken.has(name)) return name;
  }
}

/** `-e K=V` or `-e K` (value from the caller's environment, dropped when unset), as Docker. */
function envArgs(list: string[], env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const e of list) {
    if (e.includes('=')) out.push(e);
    else if (env[e] !== undefined) out.push(`${e}=${env[e]}`);
  }
  return out;
}

export function mergeEnv(base: string[], extra: string[]): string[] {
  const out = [...base];
  for (const e of extra) {
    const k = e.split('=')[0];
    const i = out.findIndex((x) => x.split('=')[0] === k);
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}

/**
 * Docker's copy-up keeps files' times but not those of directories it wrote children into (it
 * sets a directory's times before its children): such a directory shows the time of the copy,
 * an empty one keeps its own. `cp -a` kept them all; do as Docker.
 */
function directoriesAtCopyTime(dir: string): void {
  const now = Date.now() / 1000;
  const walk = (d: string) => {
    const names = readdirSync(d);
    for (const n of names) {
      const p = join(d, n);
      if (lstatSync(p).isDirectory()) walk(p);
    }
    if (names.length) utimesSync(d, now, now);
  };
  walk(dir);
}

/** `--network` → the mode (and, for container:, the container it names must exist). */
function networkMode(root: string, v: string | undefined): NetworkMode {
  const n = v ?? 'bridge';
  if (n === 'bridge' || n === 'host' || n === 'none' || n === 'default') return n === 'default' ? 'bridge' : n;
  if (n.startsWith('container:')) {
    const other = findContainer(root, n.slice('container:'.length));
    return `container:${other.id}`;
  }
  throw new StrataError('USAGE', `--network ${n}: strata has bridge, host, none and container:NAME|ID`, { hint: 'user-defined networks do not exist here' });
}

/** Docker's `--security-opt` values, files read here. */
function securityOf(o: CreateOptions): SecurityOptions {
  const sec: SecurityOptions = { privileged: !!o.privileged };
  for (const raw of o.securityOpt ?? []) {
    const i = raw.search(/[=:]/);
    const key = i < 0 ? raw : raw.slice(0, i);
    const val = i < 0 ? undefined : raw.slice(i + 1);
    if (key === 'seccomp') {
      if (!val) throw new StrataError('USAGE', `invalid --security-opt ${raw}: seccomp=unconfined or seccomp=PROFILE.json`);
      if (val === 'unconfined') sec.seccomp = 'unconfined';
      else {
        let text: string;
        try {
          text = readFileSync(val, 'utf8');
        } catch (err) {
          throw new StrataError('NOT_FOUND', `opening seccomp profile (${val}) failed: ${(err as Error).message}`, { cause: err });
        }
        sec.seccomp = parseSeccompProfile(text, `seccomp profile ${val}`);
      }
    } else if (key === 'no-new-privileges') {
      if (val !== undefined && val !== 'true' && val !== 'false') throw new StrataError('USAGE', `invalid --security-opt ${raw}: no-new-privileges[=true|false]`);
      sec.noNewPrivileges = val !== 'false';
    } else if (key === 'apparmor' || key === 'label') {
      // No AppArmor or SELinux here: accepted, as Docker accepts them where they are disabled.
    } else {
      throw new StrataError('USAGE', `invalid --security-opt: ${raw}`, { hint: 'seccomp=unconfined|FILE, no-new-privileges' });
    }
  }
  if (o.capAdd?.length) sec.capAdd = o.capAdd;
  if (o.capDrop?.length) sec.capDrop = o.capDrop;
  capabilitySet(sec); // unknown names fail now, not at start
  return sec;
}

function resourcesOf(o: CreateOptions): Resources | undefined {
  const r: Resources = {};
  if (o.memory !== undefined) {
    r.memory = parseBytes(o.memory, '--memory');
    if (r.memory < 6 * 1024 * 1024) throw new StrataError('USAGE', 'Minimum memory limit allowed is 6MB');
  }
  if (o.memorySwap !== undefined) {
    r.memorySwap = o.memorySwap === '-1' ? -1 : parseBytes(o.memorySwap, '--memory-swap');
    if (r.memory === undefined) throw new StrataError('USAGE', 'You should always set the Memory limit when using Memoryswap limit');
    if (r.memorySwap !== -1 && r.memorySwap < r.memory) throw new StrataError('USAGE', 'Minimum memoryswap limit should be larger than memory limit');
  }
  if (o.cpus !== undefined) {
    const n = Number(o.cpus);
    if (!Number.isFinite(n) || n <= 0) throw new StrataError('USAGE', `invalid --cpus "${o.cpus}": a positive number`);
    r.cpus = n;
  }
  if (o.pidsLimit !== undefined) {
    if (!/^-?\d+$/.test(o.pidsLimit)) throw new StrataError('USAGE', `invalid --pids-limit "${o.pidsLimit}": a whole number (-1 unlimited)`);
    r.pidsLimit = Number(o.pidsLimit);
  }
  return Object.keys(r).length ? r : undefined;
}

/** Every mount of the new container: -v, --mount, --tmpfs, --volumes-from, then the image's VOLUMEs not covered. */
function mountsOf(root: string, o: CreateOptions, imageVolumes: string[]): MountConfig[] {
  const mounts: MountConfig[] = [
    ...(o.volume ?? []).map(parseVolumeFlag),
    ...(o.mount ?? []).map(parseMountFlag),
    ...(o.tmpfs ?? []).map(parseTmpfsFlag),
  ];
  for (const spec of o.volumesFrom ?? []) {
    const { container, mode } = parseVolumesFrom(spec);
    const other = findContainer(root, container);
    for (const m of other.config.mounts ?? []) {
      if (m.type === 'tmpfs') continue;
      // Docker: the other container's mode unless :ro/:rw says otherwise; anonymous volumes are shared, not copied.
      const shared = { ...m, readonly: mode ? mode === 'ro' : m.readonly } as MountConfig;
      if (shared.type === 'volume') delete shared.anonymous;
      mounts.push(shared);
    }
  }
  const seen = new Set<string>();
  for (const m of mounts) {
    if (seen.has(m.target)) throw new StrataError('USAGE', `Duplicate mount point: ${m.target}`);
    seen.add(m.target);
  }
  for (const v of imageVolumes) {
    const target = v.replace(/(.)\/+$/, '$1');
    if (!seen.has(target)) {
      mounts.push({ type: 'volume', source: '', target, anonymous: true });
      seen.add(target);
    }
  }
  return mounts;
}

/**
 * Docker's `create`: resolve the image's config and every flag, write the record (from then on
 * the image and snapshots count as used), make the writable layer, create and reference the
 * volumes, copy the image's content into empty ones (copy-up, unless `nocopy`). Any failure
 * removes what was made. Nothing runs yet: the network is set up at start.
 */
export async function createContainer(root: string, o: CreateOptions): Promise<ContainerRecord> {
  await recover(root);
  const now = o.now ?? new Date();
  const network = networkMode(root, o.network);
  if (o.runtime) findRuntime(o.runtime);
  const security = securityOf(o);
  const resources = resourcesOf(o);
  const store = await openStore(root);
  const stored = await store.image(o.image);
  const imageConfig = await stored.image.config();
  const config = imageConfig.config ?? {};
  const existing = listContainers(root);
  if (o.name !== undefined) {
    if (!/^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(o.name)) throw new StrataError('USAGE', `Invalid container name (${o.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const clash = existing.find((c) => c.name === o.name!.replace(/^\//, ''));
    if (clash) throw new StrataError('CONFLICT', `the container name "/${clash.name}" is already in use by container "${clash.id}"`, { hint: 'remove it or choose another name' });
  }
  // Docker: --entrypoint replaces the image's ENTRYPOINT and drops its CMD; `--entrypoint ''` clears it.
  let entrypoint = config.Entrypoint ?? [];
  let command = config.Cmd ?? [];
  if (o.entrypoint !== undefined) {
    entrypoint = o.entrypoint === '' ? [] : [o.entrypoint];
    command = [];
  }
  let cmd = o.command ?? [];
  if (cmd[0] === '--') cmd = cmd.slice(1);
  if (cmd.length) command = cmd;
  const args = [...entrypoint, ...command];
  if (!args.length) throw new StrataError('USAGE', 'no command specified', { hint: 'the image has no CMD or ENTRYPOINT: give one after the image name' });

  const exposed = [...Object.keys(config.ExposedPorts ?? {}), ...(o.expose ?? []).map((e) => (e.includes('/') ? e : `${e}/tcp`))];
  let publish: PortSpec[] = [...(o.publish ?? []).flatMap(parsePublish), ...(o.publishAll ? publishAll(exposed) : [])];
  if (publish.length && network !== 'bridge') {
    if (network.startsWith('container:')) throw new StrataError('USAGE', 'conflicting options: port publishing and the container type network mode');
    o.log?.(`WARNING: Published ports are discarded when using ${network} network mode`);
    publish = [];
  }
  for (const p of publish) if (!exposed.includes(`${p.containerPort}/${p.protocol}`)) exposed.push(`${p.containerPort}/${p.protocol}`);
  const mounts = mountsOf(root, o, Object.keys(config.Volumes ?? {}));
  for (const m of mounts) {
    if (m.type !== 'bind') continue;
    if (!existsSync(m.source)) {
      if ((o.volume ?? []).some((v) => v.startsWith(`${m.source}:`))) mkdirSync(m.source, { recursive: true });
      else throw new StrataError('NOT_FOUND', `invalid mount config for type "bind": bind source path does not exist: ${m.source}`);
    }
  }

  const id = randomBytes(32).toString('hex');
  const other = network.startsWith('container:') ? findContainer(root, network.slice(10)) : undefined;
  const rec: ContainerRecord = {
    id,
    name: o.name?.replace(/^\//, '') ?? randomName(new Set(existing.map((c) => c.name))),
    image: stored.id as Digest,
    imageRef: o.image,
    created: now.toISOString(),
    state: 'created',
    config: {
      args,
      env: mergeEnv(config.Env ?? [], envArgs(o.env ?? [], o.envSource ?? {})),
      cwd: o.workdir || config.WorkingDir || '/',
      user: o.user ?? config.User ?? '',
      hostname: o.hostname ?? (network === 'host' ? hostHostname() : other ? other.config.hostname : id.slice(0, 12)),
      network,
      tty: !!o.tty,
      openStdin: !!o.interactive,
      runtime: o.runtime,
      entrypoint,
      cmd: command,
      mounts,
      readonlyRootfs: !!o.readOnly,
      ...(publish.length ? { publish } : {}),
      ...(exposed.length ? { exposed } : {}),
      security,
      ...(o.securityOpt?.length ? { securityOpt: o.securityOpt } : {}),
      ...(resources ? { resources } : {}),
      ...(o.volumesFrom?.length ? { volumesFrom: o.volumesFrom } : {}),
    },
    autoRemove: !!o.rm,
  };
  if (o.hostname !== undefined && other) throw new StrataError('USAGE', 'conflicting options: hostname and the network mode');
  // The record first: from now on GC sees the image as used, and `rm` can undo the rest.
  writeContainer(root, rec);
  const made: string[] = [];
  try {
    await o.checkpoint?.('record-written');
    const layers = await stored.image.layers();
    const w = await createWritableLayer(root, {
      id,
      layers,
      created: rec.created,
      checkpoint: o.checkpoint,
      onSnapshots: (unpacked, reused) => o.log && o.log(`snapshots: ${unpacked} unpacked, ${reused} reused`),
    });
    const copies: Array<{ path: string; dest: string }> = [];
    for (const m of mounts) {
      if (m.type !== 'volume') continue;
      let v = m.source ? findVolume(root, m.source) : undefined;
      if (!v) {
        v = createVolume(root, { name: m.source || undefined, anonymous: !m.source, now });
        if (!m.source) {
          m.source = v.name;
          made.push(v.name);
        }
      }
      addVolumeUser(root, v.name, id);
      if (!m.nocopy && volumeIsEmpty(v)) copies.push({ path: m.target, dest: v.mountpoint });
    }
    writeContainer(root, rec); // anonymous volumes now have their names
    if (copies.length) {
      const copied = await w.copyOut(copies);
      for (const c of copies) if (copied.includes(c.path)) directoriesAtCopyTime(c.dest);
    }
    await o.checkpoint?.('volumes-ready');
  } catch (err) {
    for (const m of mounts) if (m.type === 'volume' && m.source) removeVolumeUser(root, m.source, id);
    for (const n of made) {
      try {
        removeVolume(root, n);
      } catch {
        // left for volume prune
      }
    }
    removeWritableLayer(root, id);
    removeContainerDir(root, id);
    wrapError(err, `creating a container from ${o.image}`);
  }
  return rec;
}

