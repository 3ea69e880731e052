import { spawn, execFile, type StdioOptions } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, symlinkSync, unlinkSync, utimesSync, chownSync, writeFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { StrataError } from '@strata/errors';
import { findTool } from '@strata/host-tools';
import { findRuntime } from './find-runtime';
import { lookupInLayers, readFileInLayers } from './layered-lookup';
import { buildSpec, type MountSpec, type NetworkMode, type Resources } from './spec';
import type { SecurityOptions } from './security';
import { resolveUser, type ResolvedUser } from './user';

/**
 * The root filesystem of a container. Either a directory used as is, or an overlay stack that
 * the runtime mounts *inside a private mount namespace* right before starting the OCI runtime:
 * the mount never appears in the host's mount table and disappears with the container's
 * processes, so a killed strata leaves no mount behind.
 */
export type RootfsSpec =
  | { path: string }
  | {
      /** Lower directories, top → bottom (overlay whiteouts: 0/0 char devices, opaque xattrs). */
      lowerdirs: string[];
      upperdir: string;
      workdir: string;
      /**
       * Mount the overlay `volatile` (Linux ≥ 5.10): the process's fsyncs do not reach the upper
       * dir's disk. For a throw-away layer only (a build step, whose result is made durable when it
       * is stored); kernels without the option mount it as usual.
       */
      volatile?: boolean;
    };

export interface RunProcessOptions {
  /** Unique container id ([a-zA-Z0-9_.-]); also names the runtime state. */
  id: string;
  /** Private scratch dir of this run: config.json, the init layer, runtime log. Removed afterwards. */
  bundleDir: string;
  /** The OCI runtime's `--root` state directory. */
  stateDir: string;
  rootfs: RootfsSpec;
  args: string[];
  /** KEY=VALUE; PATH and HOME get Docker's defaults when missing. */
  env?: string[];
  cwd?: string;
  /** `uid[:gid]` or `name[:group]`, resolved against the image's /etc/passwd and /etc/group. */
  user?: string;
  hostname?: string;
  /**
   * `host` (default): the host's network stack, no set-up. `none`: a new netns with only lo.
   * `{ netns }`: join a namespace someone else set up (a bridge network's, another container's).
   */
  network?: NetworkMode;
  /**
   * The contents of /etc/hosts and /etc/resolv.conf (bind-mounted, as Docker does). Default: the
   * host's files for `host`, else a minimal hosts file and the host's resolv.conf.
   */
  etc?: { hosts?: string; resolvConf?: string };
  /** Seccomp, capabilities, no-new-privileges, privileged. Default: Docker's defaults. */
  security?: SecurityOptions;
  /** cgroup limits. */
  resources?: Resources;
  mounts?: MountSpec[];
  readonlyRootfs?: boolean;
  terminal?: boolean;
  /** runc, crun or a path; default `$STRATA_RUNTIME`, then runc, then crun. */
  runtime?: string;
  stdin?: 'inherit' | 'ignore' | Readable | number;
  stdout?: 'inherit' | 'ignore' | Writable | number;
  stderr?: 'inherit' | 'ignore' | Writable | number;
  /** Aborting sends SIGTERM to the container, then SIGKILL after `stopTimeoutMs`. */
  signal?: AbortSignal;
  stopTimeoutMs?: number;
  /** Called once the runtime process exists (its pid, for crash bookkeeping). */
  onSpawn?: (pid: number) => void;
}

export interface RunProcessResult {
  /** The process's exit code; 128+N when killed by signal N (as Docker). */
  exitCode: number;
  /** Paths created in the init layer as mount points (not part of the container's changes). */
  mountpoints: string[];
}

const ID_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Run one process in a container through runc/crun and wait for it; always cleans up the runtime state. */
export async function runProcess(opts: RunProcessOptions): Promise<RunProcessResult> {
  if (!ID_RE.test(opts.id)) throw new Error(`invalid container id ${opts.id}`);
  const o = absolutePaths(opts);
  if (!o.args.length) throw new StrataError('USAGE', 'no command to run');
  const runtime = findRuntime(o.runtime);
  const network = o.network ?? 'host';
  const hostname = o.hostname ?? o.id.slice(0, 12);
  mkdirSync(o.bundleDir, { recursive: true });
  mkdirSync(o.stateDir, { recursive: true });
  const overlay = 'lowerdirs' in o.rootfs ? o.rootfs : undefined;
  const viewDirs = overlay ? [overlay.upperdir, ...overlay.lowerdirs] : [(o.rootfs as { path: string }).path];
  const read = (p: string) => readFileInLayers(viewDirs, p)?.toString('utf8');
  const user = resolveUser(o.user ?? '', { passwd: read('/etc/passwd'), group: read('/etc/group') });
  const env = withDefaults(o.env ?? [], user);

  // Files Docker bind-mounts into every container (they are not part of its changes).
  const etc = join(o.bundleDir, 'etc');
  mkdirSync(etc, { recursive: true });
  writeFileSync(join(etc, 'hostname'), `${hostname}\n`);
  writeFileSync(join(etc, 'hosts'), o.etc?.hosts ?? hostsFile(network, hostname));
  writeFileSync(join(etc, 'resolv.conf'), o.etc?.resolvConf ?? resolvConf());
  const staging = stageBinds(o.bundleDir, o.mounts ?? [], 'lowerdirs' in o.rootfs);
  const mounts: MountSpec[] = [
    { type: 'bind', source: join(etc, 'hostname'), target: '/etc/hostname' },
    { type: 'bind', source: join(etc, 'hosts'), target: '/etc/hosts' },
    { type: 'bind', source: join(etc, 'resolv.conf'), target: '/etc/resolv.conf' },
    ...staging.mounts,
  ];

  // Mount points missing from the image go into a private init layer above the image (as
  // Docker's "-init" layer), so the runtime never creates stubs in the writable layer.
  const mountpoints: string[] = [];
  let rootfsPath: string;
  let script: string | undefined;
  if (overlay) {
    const init = join(o.bundleDir, 'init');
    mkdirSync(init, { recursive: true });
    for (const t of ['/proc', '/sys', '/dev', '/etc/mtab']) {
      if (!lookupInLayers(viewDirs, t)) mountpoints.push(...makeStub(viewDirs, init, t, t === '/etc/mtab' ? 'symlink' : 'dir'));
    }
    for (const m of mounts) {
      if (!lookupInLayers(viewDirs, m.target)) {
        const isFile = m.type === 'bind' && !lstatSync(m.source).isDirectory();
        mountpoints.push(...makeStub(viewDirs, init, m.target, isFile ? 'file' : 'dir'));
      }
    }
    // Short relative lower paths keep the mount options under the page-size limit with
    // hundreds of layers (the `l/` links of Docker's overlay2).
    const links = join(o.bundleDir, 'l');
    mkdirSync(links, { recursive: true });
    const lowers = [init, ...overlay.lowerdirs];
    lowers.forEach((d, i) => symlinkSync(d, join(links, String(i))));
    mkdirSync(join(o.bundleDir, 'rootfs'), { recursive: true });
    rootfsPath = 'rootfs';
    const options = `lowerdir=${lowers.map((_, i) => `l/${i}`).join(':')},upperdir=${overlay.upperdir},workdir=${overlay.workdir},index=off,redirect_dir=off,metacopy=off`;
    // overlayfs stacks at most 500 lower dirs (OVL_MAX_STACK); Docker caps images at 125 layers.
    if (lowers.length > 500) throw new StrataError('UNSUPPORTED', `too many layers for overlayfs (${lowers.length - 1}; the kernel stacks at most 499 plus strata's init layer)`);
    if (options.length > 4000) throw new StrataError('UNSUPPORTED', `too many layers for one overlay mount (${lowers.length})`);
    // `volatile` is refused (EINVAL) by kernels before 5.10: then the mount is made without it.
    script = overlay.volatile ? `{ "$1" -t overlay strata -o "$3,volatile" rootfs 2>/dev/null || "$1" -t overlay strata -o "$3" rootfs; }` : `"$1" -t overlay strata -o "$3" rootfs`;
    writeFileSync(join(o.bundleDir, 'mount-options'), options);
  } else {
    rootfsPath = (o.rootfs as { path: string }).path;
    // A plain directory has no init layer: create missing mount points in it now and remove
    // them afterwards (as BuildKit removes its mount stubs), so they are not seen as changes.
    for (const t of ['/proc', '/sys', '/dev']) if (!lookupInLayers([rootfsPath], t)) mountpoints.push(...makeStub([rootfsPath], rootfsPath, t, 'dir'));
    for (const m of mounts) {
      if (!lookupInLayers([rootfsPath], m.target)) {
        const isFile = m.type === 'bind' && !lstatSync(m.source).isDirectory();
        mountpoints.push(...makeStub([rootfsPath], rootfsPath, m.target, isFile ? 'file' : 'dir'));
      }
    }
  }

  const spec = buildSpec({
    rootfsPath,
    args: o.args,
    env,
    cwd: o.cwd || '/',
    user,
    hostname,
    network,
    terminal: !!o.terminal,
    readonlyRootfs: !!o.readonlyRootfs,
    mounts,
    cgroupsPath: `/strata/${o.id}`,
    security: o.security,
    resources: o.resources,
  });
  writeFileSync(join(o.bundleDir, 'config.json'), JSON.stringify(spec, null, 2));

  const log = join(o.bundleDir, 'runtime.log');
  const runtimeArgs = [runtime, '--root', o.stateDir, '--log', log, '--log-format', 'json', 'run', '--bundle', o.bundleDir, o.id];
  // Mounts made for this run only (the rootfs overlay, staged binds) are made in a private mount
  // namespace, right before the runtime starts in it: `$1` is mount(8), `$2` the bundle, `$3`
  // the rootfs overlay's options.
  const steps = [...staging.script, ...(script !== undefined ? [script] : [])];
  const unset = Object.keys(staging.env).length ? `unset ${Object.keys(staging.env).join(' ')}; ` : '';
  const wrapper = `set -e; cd "$2"; ${steps.join('; ')}; ${unset}shift 3; exec "$@"`;
  const [cmd, args] = steps.length
    ? [findTool('unshare'), ['--mount', '--propagation', 'private', '--', 'sh', '-c', wrapper, 'strata-run', findTool('mount'), o.bundleDir, script !== undefined ? readFileSync(join(o.bundleDir, 'mount-options'), 'utf8') : '', ...runtimeArgs]]
    : [runtimeArgs[0], runtimeArgs.slice(1)];

  const stdio: StdioOptions = [stdioOf(o.stdin ?? 'ignore'), stdioOf(o.stdout ?? 'inherit'), stdioOf(o.stderr ?? 'inherit')];
  try {
    const exitCode = await new Promise<number>((resolve, reject) => {
      const child = spawn(cmd, args as string[], { cwd: o.bundleDir, stdio, env: Object.keys(staging.env).length ? { ...process.env, ...staging.env } : undefined });
      if (child.pid) o.onSpawn?.(child.pid);
      if (o.stdin && typeof o.stdin === 'object') (o.stdin as Readable).pipe(child.stdin!).on('error', () => {});
      if (o.stdout && typeof o.stdout === 'object') child.stdout!.pipe(o.stdout as Writable, { end: false });
      if (o.stderr && typeof o.stderr === 'object') child.stderr!.pipe(o.stderr as Writable, { end: false });
      let killTimer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        void runtimeKill(runtime, o.stateDir, o.id, 'TERM');
        killTimer = setTimeout(() => void runtimeKill(runtime, o.stateDir, o.id, 'KILL'), o.stopTimeoutMs ?? 10_000);
      };
      if (o.signal?.aborted) onAbort();
      else o.signal?.addEventListener('abort', onAbort, { once: true });
      child.on('error', (err) => reject(new StrataError('RUNTIME_ERROR', `cannot start ${cmd}: ${err.message}`, { cause: err })));
      child.on('close', (code, sig) => {
        o.signal?.removeEventListener('abort', onAbort);
        if (killTimer) clearTimeout(killTimer);
        resolve(code ?? 128 + signalNumber(sig));
      });
    });
    for (const c of staging.staged) {
      if (existsSync(`${c.point}.changed`)) throw new StrataError('UNSAFE_PATH', `bind mount source ${c.source}: changed while it was mounted (it is no longer what was resolved)`);
      if (existsSync(`${c.point}.failed`)) {
        const said = readFileSync(`${c.point}.err`, 'utf8').trim().split('\n')[0].replace(/^(mount|cp): /, '');
        throw new StrataError('IO_ERROR', `cannot mount ${c.source}${said ? `: ${said}` : ''}`);
      }
    }
    const failure = runtimeFailure(log, exitCode);
    if (failure) throw failure;
    return { exitCode, mountpoints };
  } finally {
    await deleteRuntimeState({ runtime, stateDir: o.stateDir, id: o.id });
    rmSync(o.bundleDir, { recursive: true, force: true });
    if (!overlay) removeStubs(rootfsPath, mountpoints);
  }
}

/**
 * Every host path handed to the runtime made absolute: it runs in the bundle directory, so a
 * relative bind source (a build context given as `.`) would name a file of the bundle.
 */
function absolutePaths(o: RunProcessOptions): RunProcessOptions {
  const rootfs: RootfsSpec = 'lowerdirs' in o.rootfs
    ? { ...o.rootfs, lowerdirs: o.rootfs.lowerdirs.map((d) => resolve(d)), upperdir: resolve(o.rootfs.upperdir), workdir: resolve(o.rootfs.workdir) }
    : { path: resolve(o.rootfs.path) };
  return {
    ...o,
    bundleDir: resolve(o.bundleDir),
    stateDir: resolve(o.stateDir),
    rootfs,
    mounts: o.mounts?.map((m) => (m.type === 'bind' ? { ...m, source: resolve(m.source) } : m)),
  };
}

/**
 * Bind mounts with a `sourceIdentity` become mounts of a path in the bundle, made in the run's
 * private mount namespace before the runtime starts: `mount --bind` of the source, then a check
 * that the mount is the object the caller resolved (device and inode), so a rename at the
 * source's path between its resolution and the mount cannot point it elsewhere; the runtime then
 * binds that mount, which nothing outside the namespace can change. (The runtime cannot take a
 * descriptor's /proc/<pid>/fd/N instead: it mounts in a new namespace, where the kernel refuses
 * a mount of another one; so does mount(8) after unshare.) `discardWrites` puts an overlay with a
 * scratch upper directory over a directory (with no overlayfs, a copy), and copies a file.
 * The sources' paths reach the script in the environment (`STRATA_BIND_K`), never in its text.
 */
function stageBinds(bundleDir: string, mounts: readonly MountSpec[], overlayfs: boolean): { mounts: MountSpec[]; script: string[]; env: Record<string, string>; staged: Array<{ point: string; source: string }> } {
  const script: string[] = [];
  const env: Record<string, string> = {};
  const staged: Array<{ point: string; source: string }> = [];
  const out: MountSpec[] = [];
  for (const m of mounts) {
    if (m.type !== 'bind' || m.sourceIdentity === undefined) {
      out.push(m);
      continue;
    }
    mkdirSync(join(bundleDir, 'binds'), { recursive: true });
    const k = out.length;
    const point = `binds/${k}`;
    const isDir = m.sourceIdentity.dir;
    const place = (rel: string) => (isDir ? mkdirSync(join(bundleDir, rel)) : writeFileSync(join(bundleDir, rel), ''));
    place(point);
    env[`STRATA_BIND_${k}`] = m.source;
    staged.push({ point: join(bundleDir, point), source: m.source });
    script.push(`"$1" --bind "$STRATA_BIND_${k}" ${point} 2> ${point}.err || { : > ${point}.failed; exit 125; }`);
    script.push(`[ "$(stat -c %d:%i ${point})" = "${m.sourceIdentity.dev}:${m.sourceIdentity.ino}" ] || { : > ${point}.changed; exit 125; }`);
    const discard = m.discardWrites === true && m.readonly !== true;
    if (!discard) {
      out.push({ type: 'bind', source: join(bundleDir, point), target: m.target, readonly: m.readonly });
      continue;
    }
    const rw = `${point}.rw`;
    place(rw);
    // a failure here is the set-up's, not the process's: reported as such (`.failed`, `.err`)
    const orFail = `2> ${point}.err || { : > ${point}.failed; exit 125; }`;
    if (!isDir) script.push(`cp -p ${point} ${rw} ${orFail}`);
    else if (overlayfs) {
      mkdirSync(join(bundleDir, `${point}.up`));
      mkdirSync(join(bundleDir, `${point}.work`));
      script.push(`"$1" -t overlay strata-bind -o lowerdir=${point},upperdir=${point}.up,workdir=${point}.work,index=off,redirect_dir=off,metacopy=off ${rw} ${orFail}`);
    } else script.push(`cp -a ${point}/. ${rw}/ ${orFail}`);
    out.push({ type: 'bind', source: join(bundleDir, rw), target: m.target });
  }
  return { mounts: out, script, env, staged };
}

/** The runtime's view of a container (`runtime state`): its init process, or undefined when it is not there. */
export function runtimeState(o: { runtime?: string; stateDir: string; id: string }): Promise<{ pid: number; status: string } | undefined> {
  if (!existsSync(join(o.stateDir, o.id))) return Promise.resolve(undefined);
  const runtime = findRuntime(o.runtime);
  return new Promise((resolve) =>
    execFile(runtime, ['--root', o.stateDir, 'state', o.id], (err, stdout) => {
      if (err) return resolve(undefined);
      try {
        const s = JSON.parse(stdout) as { pid?: number; status?: string };
        resolve(s.pid ? { pid: s.pid, status: s.status ?? 'unknown' } : undefined);
      } catch {
        resolve(undefined);
      }
    }),
  );
}

/** `runtime kill`; errors (container already gone) are ignored. */
export function runtimeKill(runtime: string, stateDir: string, id: string, signal: string): Promise<void> {
  return new Promise((resolve) => execFile(runtime, ['--root', stateDir, 'kill', id, signal], () => resolve()));
}

/**
 * Forget a container in the runtime: kill whatever still runs and remove its state and cgroups.
 * Safe to call for a container the runtime never heard of (crash recovery).
 */
export function deleteRuntimeState(o: { runtime?: string; stateDir: string; id: string }): Promise<void> {
  if (!existsSync(join(o.stateDir, o.id))) {
    // No state to ask the runtime with (its store is gone): end what still runs in its cgroup.
    killCgroup(o.id);
    return Promise.resolve();
  }
  let runtime: string;
  try {
    runtime = findRuntime(o.runtime);
  } catch {
    killCgroup(o.id);
    return Promise.resolve();
  }
  return new Promise((resolve) =>
    execFile(runtime, ['--root', o.stateDir, 'delete', '--force', o.id], () => {
      rmSync(join(o.stateDir, o.id), { recursive: true, force: true });
      killCgroup(o.id);
      resolve();
    }),
  );
}

/**
 * The container's cgroups (`/strata/<id>`, in every v1 controller and in v2): their processes
 * killed, the directories removed. What is left when a container's runtime state is gone with
 * its store while it ran; nothing to do otherwise (runc removes them).
 */
function killCgroup(id: string): void {
  const dirs: string[] = [];
  const base = '/sys/fs/cgroup';
  if (existsSync(join(base, 'strata', id))) dirs.push(join(base, 'strata', id));
  try {
    for (const c of readdirSync(base)) if (existsSync(join(base, c, 'strata', id))) dirs.push(join(base, c, 'strata', id));
  } catch {
    return;
  }
  for (const d of dirs) {
    try {
      for (const pid of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone already
        }
      }
    } catch {
      // no such file: removed meanwhile
    }
  }
  for (let i = 0; i < 50 && dirs.some((d) => existsSync(d)); i++) {
    for (const d of dirs) {
      try {
        rmdirSync(d);
      } catch {
        // processes still exiting
      }
    }
    if (dirs.some((d) => existsSync(d))) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

function withDefaults(env: string[], user: ResolvedUser): string[] {
  const out = [...env];
  if (!out.some((e) => e.startsWith('PATH='))) out.unshift(DEFAULT_PATH);
  if (!out.some((e) => e.startsWith('HOME='))) out.push(`HOME=${user.home || '/'}`);
  return out;
}

function hostsFile(network: NetworkMode, hostname: string): string {
  if (network === 'host') {
    try {
      return readFileSync('/etc/hosts', 'utf8');
    } catch {
      // fall through to a minimal file
    }
  }
  return `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${hostname}\n`;
}

function resolvConf(): string {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}

/** Create `target` (and missing parents, with the parents' metadata from the view) in `init`. */
function makeStub(view: string[], init: string, target: string, kind: 'dir' | 'file' | 'symlink'): string[] {
  const created: string[] = [];
  const parts = posix.normalize(`/${target}`).split('/').filter(Boolean);
  for (let i = 1; i < parts.length; i++) {
    const p = `/${parts.slice(0, i).join('/')}`;
    const dst = join(init, p);
    if (existsSync(dst)) continue;
    mkdirSync(dst);
    const hit = lookupInLayers(view, p);
    if (hit?.stat.isDirectory()) {
      chownSync(dst, hit.stat.uid, hit.stat.gid);
      chmodSync(dst, hit.stat.mode & 0o7777);
      utimesSync(dst, hit.stat.atime, hit.stat.mtime);
    } else created.push(p);
  }
  const dst = join(init, ...parts);
  if (!existsSync(dst)) {
    if (kind === 'dir') mkdirSync(dst);
    else if (kind === 'file') writeFileSync(dst, '');
    else symlinkSync('/proc/mounts', dst);
    created.push(`/${parts.join('/')}`);
  }
  // The parents' mtimes changed by creating children; restore them.
  for (let i = parts.length - 1; i >= 1; i--) {
    const p = `/${parts.slice(0, i).join('/')}`;
    const hit = lookupInLayers(view, p);
    if (hit?.stat.isDirectory()) utimesSync(join(init, p), hit.stat.atime, hit.stat.mtime);
  }
  return created;
}

/** Remove mount-point stubs (deepest first) that are still empty. */
function removeStubs(rootfs: string, stubs: string[]): void {
  for (const p of [...stubs].sort((a, b) => b.length - a.length)) {
    const abs = join(rootfs, p);
    try {
      const st = lstatSync(abs);
      if (st.isDirectory()) rmdirSync(abs);
      else if (st.isFile() && st.size === 0) unlinkSync(abs);
    } catch {
      // not empty or already gone: leave it
    }
  }
}

function stdioOf(s: 'inherit' | 'ignore' | Readable | Writable | number): 'inherit' | 'ignore' | 'pipe' | number {
  return typeof s === 'object' ? 'pipe' : s;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 };
function signalNumber(sig: NodeJS.Signals | null): number {
  return sig ? SIGNALS[sig] ?? 9 : 0;
}

/**
 * runc/crun exit 1 (or 255) with a message in their log when the container could not start;
 * map "executable not found" / "permission denied" to Docker's 127 / 126 by throwing a typed error.
 */
function runtimeFailure(log: string, exitCode: number): StrataError | undefined {
  if (exitCode !== 1 && exitCode !== 255) return undefined;
  let text: string;
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return undefined;
  }
  const errors = text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      try {
        return JSON.parse(l) as { level?: string; msg?: string };
      } catch {
        return { level: 'error', msg: l };
      }
    })
    .filter((e) => e.level === 'error' || e.level === 'fatal');
  if (!errors.length) return undefined;
  const msg = errors[errors.length - 1].msg ?? 'unknown error';
  const err = new StrataError('RUNTIME_ERROR', `OCI runtime: ${msg.trim()}`);
  (err as StrataError & { exitCode?: number }).exitCode = /not found|no such file/i.test(msg) ? 127 : /permission denied/i.test(msg) ? 126 : 125;
  return err;
}
