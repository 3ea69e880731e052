import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedUser } from './user';
import { capabilitySet, defaultSeccompProfile, seccompForSpec, type SecurityOptions } from './security';

/** A mount the caller adds to the container (RUN --mount, -v). */
export type MountSpec =
  | {
      type: 'bind';
      source: string;
      target: string;
      readonly?: boolean;
      /**
       * The object `source` was found to be when it was resolved safely (`resolveBeneath`,
       * its `fstat`): the runtime mounts `source` and checks the mount is that very object,
       * so a rename at the path meanwhile cannot point the mount elsewhere (UNSAFE_PATH).
       */
      sourceIdentity?: { dev: number; ino: number; dir: boolean };
      /**
       * Writes through a read-write mount go to a throwaway layer, never to the source (BuildKit's
       * `RUN --mount=type=bind,rw`: "written data will be discarded"). Needs `sourceIdentity`.
       */
      discardWrites?: boolean;
    }
  | { type: 'tmpfs'; target: string; size?: number; mode?: number; readonly?: boolean };

/**
 * `host`: the host's network stack. `none`: a new network namespace with only `lo`.
 * `{ netns }`: join an existing network namespace (a bridge network's, made by @strata/network,
 * or another container's: `/proc/PID/ns/net`).
 */
export type NetworkMode = 'none' | 'host' | { netns: string };

/** cgroup limits (Docker's --memory, --memory-swap, --cpus, --pids-limit). */
export interface Resources {
  /** Bytes. */
  memory?: number;
  /** Memory + swap in bytes; -1 unlimited. Default (with `memory`): twice `memory`, as Docker, where the kernel accounts swap. */
  memorySwap?: number;
  /** CPUs (fractions allowed): CFS quota over a 100 ms period. */
  cpus?: number;
  /** Most processes (tasks) at once; 0 or -1 unlimited. */
  pidsLimit?: number;
}

export interface SpecOptions {
  /** The rootfs directory, relative to the bundle or absolute. */
  rootfsPath: string;
  args: string[];
  env: string[];
  cwd: string;
  user: ResolvedUser;
  hostname: string;
  network: NetworkMode;
  terminal: boolean;
  readonlyRootfs: boolean;
  mounts: MountSpec[];
  /** cgroupfs path (cgroup v1 and v2): unique per container. */
  cgroupsPath: string;
  /** Default: Docker's defaults (default seccomp profile, default capabilities). */
  security?: SecurityOptions;
  resources?: Resources;
  /** Whether the kernel accounts swap in the memory cgroup (memsw / memory.swap.max); probed when absent. */
  swapAccounting?: boolean;
}

/** The `process` object of config.json (also what `runc exec --process` takes). */
export function buildProcess(o: Pick<SpecOptions, 'args' | 'env' | 'cwd' | 'user' | 'terminal' | 'security'>): Record<string, unknown> {
  const root = o.user.uid === 0;
  const caps = capabilitySet(o.security ?? {});
  // Docker gives non-root users no effective/permitted capabilities, only the bounding set.
  const capabilities = {
    bounding: caps,
    effective: root ? caps : [],
    permitted: root ? caps : [],
    inheritable: [],
    ambient: [],
  };
  return {
    terminal: o.terminal,
    user: { uid: o.user.uid, gid: o.user.gid, additionalGids: o.user.additionalGids.length ? o.user.additionalGids : undefined },
    args: o.args,
    env: o.env,
    cwd: o.cwd,
    capabilities,
    noNewPrivileges: !!o.security?.noNewPrivileges,
    oomScoreAdj: 0,
  };
}

const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
];
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The devices Docker creates in /dev and allows in the devices cgroup. */
const DEVICES: Array<[string, number, number]> = [
  ['/dev/null', 1, 3], ['/dev/zero', 1, 5], ['/dev/full', 1, 7], ['/dev/random', 1, 8], ['/dev/urandom', 1, 9], ['/dev/tty', 5, 0],
];

/** Whether the memory cgroup accounts swap (cgroup v1 memsw, or v2 memory.swap.max). */
export function swapAccounting(): boolean {
  for (const f of ['/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes', '/sys/fs/cgroup/memory.swap.max']) {
    try {
      statSync(f);
      return true;
    } catch {
      // next
    }
  }
  return false;
}

/** linux.resources entries for the limits (runtime-spec names; runc maps them to v1 or v2 files). */
function resourceLimits(r: Resources | undefined, swap: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!r) return out;
  if (r.memory) {
    const memory: Record<string, number> = { limit: r.memory };
    if (swap) memory.swap = r.memorySwap ?? r.memory * 2;
    out.memory = memory;
  }
  if (r.cpus) out.cpu = { period: 100_000, quota: Math.round(r.cpus * 100_000) };
  if (r.pidsLimit !== undefined && r.pidsLimit !== 0) out.pids = { limit: r.pidsLimit < 0 ? -1 : r.pidsLimit };
  return out;
}

/** The host's devices, for --privileged (Docker gives a privileged container every device of the host). */
function hostDevices(): Array<{ path: string; type: string; major: number; minor: number; fileMode: number; uid: number; gid: number }> {
  const out: Array<{ path: string; type: string; major: number; minor: number; fileMode: number; uid: number; gid: number }> = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      if (['/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/console', '/dev/ptmx'].includes(p)) continue;
      let st;
      try {
        st = statSync(p, { throwIfNoEntry: false });
      } catch {
        continue;
      }
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (st.isCharacterDevice() || st.isBlockDevice()) {
        const rdev = Number(st.rdev);
        out.push({ path: p, type: st.isCharacterDevice() ? 'c' : 'b', major: (rdev >> 8) & 0xfff, minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00), fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid });
      }
    }
  };
  walk('/dev');
  return out;
}

/**
 * An OCI runtime config.json (runtime-spec 1.0) for one process, close to what Docker gives a
 * `docker run` container: mount/pid/ipc/uts namespaces (+ net unless `host`), /proc, a tmpfs
 * /dev with the standard devices, /dev/pts, /dev/shm, /dev/mqueue, read-only /sys and cgroups,
 * Docker's capabilities, masked and read-only /proc paths, Docker's default seccomp profile
 * (unless `security.seccomp` says otherwise) and the cgroup limits asked for. No AppArmor profile.
 * `--privileged`: every capability and host device, no seccomp, nothing masked, /sys writable.
 */
export function buildSpec(o: SpecOptions): Record<string, unknown> {
  const sec = o.security ?? {};
  const privileged = !!sec.privileged;
  const namespaces: Array<{ type: string; path?: string }> = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (o.network === 'none') namespaces.push({ type: 'network' });
  else if (typeof o.network === 'object') namespaces.push({ type: 'network', path: o.network.netns });
  const mounts: Array<Record<string, unknown>> = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', privileged ? 'rw' : 'ro'] },
  ];
  for (const m of o.mounts) {
    if (m.type === 'bind') {
      mounts.push({ destination: m.target, type: 'bind', source: m.source, options: ['rbind', m.readonly ? 'ro' : 'rw', 'rprivate'] });
    } else {
      const opts = ['nosuid', 'nodev', `mode=${(m.mode ?? 0o1777).toString(8)}`];
      if (m.size) opts.push(`size=${m.size}`);
      if (m.readonly) opts.push('ro');
      mounts.push({ destination: m.target, type: 'tmpfs', source: 'tmpfs', options: opts });
    }
  }
  const caps = capabilitySet(sec);
  const seccomp = privileged || sec.seccomp === 'unconfined' ? undefined : seccompForSpec(sec.seccomp && sec.seccomp !== 'default' ? sec.seccomp : defaultSeccompProfile(), caps);
  const devices = DEVICES.map(([path, major, minor]) => ({ path, type: 'c', major, minor, fileMode: 0o666, uid: 0, gid: 0 }));
  if (privileged) for (const d of hostDevices()) if (!devices.some((x) => x.path === d.path)) devices.push(d);
  return {
    ociVersion: '1.0.2',
    process: buildProcess(o),
    root: { path: o.rootfsPath, readonly: o.readonlyRootfs },
    hostname: o.hostname,
    mounts,
    linux: {
      namespaces,
      cgroupsPath: o.cgroupsPath,
      resources: {
        devices: privileged
          ? [{ allow: true, access: 'rwm' }]
          : [
              { allow: false, access: 'rwm' },
              ...DEVICES.map(([, major, minor]) => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
              { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' }, // /dev/console
              { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
              { allow: true, type: 'c', major: 136, access: 'rwm' }, // /dev/pts/*
            ],
        ...resourceLimits(o.resources, o.swapAccounting ?? (o.resources?.memory ? swapAccounting() : false)),
      },
      devices,
      maskedPaths: privileged ? [] : MASKED_PATHS,
      readonlyPaths: privileged ? [] : READONLY_PATHS,
      ...(seccomp ? { seccomp } : {}),
      rootfsPropagation: 'private',
    },
  };
}
