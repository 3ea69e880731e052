import type { ResolvedUser } from './user';

/** A mount the caller adds to the container (RUN --mount, -v). */
export type MountSpec =
  | { type: 'bind'; source: string; target: string; readonly?: boolean }
  | { type: 'tmpfs'; target: string; size?: number; mode?: number; readonly?: boolean };

export type NetworkMode = 'none' | 'host';

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
}

/** The `process` object of config.json (also what `runc exec --process` takes). */
export function buildProcess(o: Pick<SpecOptions, 'args' | 'env' | 'cwd' | 'user' | 'terminal'>): Record<string, unknown> {
  const root = o.user.uid === 0;
  // Docker gives non-root users no effective/permitted capabilities, only the bounding set.
  const capabilities = {
    bounding: DEFAULT_CAPABILITIES,
    effective: root ? DEFAULT_CAPABILITIES : [],
    permitted: root ? DEFAULT_CAPABILITIES : [],
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
    noNewPrivileges: false,
    oomScoreAdj: 0,
  };
}

/** Docker's default capability set (moby oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
];
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The devices Docker creates in /dev and allows in the devices cgroup. */
const DEVICES: Array<[string, number, number]> = [
  ['/dev/null', 1, 3], ['/dev/zero', 1, 5], ['/dev/full', 1, 7], ['/dev/random', 1, 8], ['/dev/urandom', 1, 9], ['/dev/tty', 5, 0],
];

/**
 * An OCI runtime config.json (runtime-spec 1.0) for one process, close to what Docker gives a
 * `docker run` container: mount/pid/ipc/uts namespaces (+ net for `none`), /proc, a tmpfs /dev
 * with the standard devices, /dev/pts, /dev/shm, /dev/mqueue, read-only /sys and cgroups,
 * Docker's capabilities, masked and read-only /proc paths. No seccomp or AppArmor profile.
 */
export function buildSpec(o: SpecOptions): Record<string, unknown> {
  const namespaces: Array<{ type: string }> = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (o.network === 'none') namespaces.push({ type: 'network' });
  const mounts: Array<Record<string, unknown>> = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
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
        devices: [
          { allow: false, access: 'rwm' },
          ...DEVICES.map(([, major, minor]) => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
          { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' }, // /dev/console
          { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
          { allow: true, type: 'c', major: 136, access: 'rwm' }, // /dev/pts/*
        ],
      },
      devices: DEVICES.map(([path, major, minor]) => ({ path, type: 'c', major, minor, fileMode: 0o666, uid: 0, gid: 0 })),
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
      rootfsPropagation: 'private',
    },
  };
}
