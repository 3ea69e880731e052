import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { currentOwner, ensureWritableSnapshots, ownerAlive, ownerOf, writableLayer, writableSnapshotsPresent, type Owner } from '@strata/cow';
import { StrataError, isStrataError, type ErrorCode } from '@strata/errors';
import { openStore } from '@strata/image-store';
import { attach, attachmentOf, detach, handOff, hostsFile, resolvConf } from '@strata/network';
import { DEFAULT_RUN_DIR } from '@strata/network/run-dir';
import { runProcess, runtimeState, type MountSpec, type NetworkMode as RuntimeNetwork } from '@strata/runtime';
import { createVolume, findVolume } from '@strata/volume';
import { mergeEnv } from './create';
import { liveEntries, registerLive, unregisterLive } from './live';
import { openLog, tee } from './logs';
import { dropContainer } from './recover';
import { containerDir, readContainer, runtimeDir, updateContainer, type ContainerRecord, type NetworkSettings } from './records';

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface StartOptions {
  /** Host-wide state (live registry, network): default /run/strata. */
  runDir?: string;
  /** The environment (CNI_PATH, STRATA_BRIDGE_SUBNET). */
  env?: NodeJS.ProcessEnv;
  /** Aborting stops the container: SIGTERM, then SIGKILL after `stopTimeoutSec` (10). */
  signal?: AbortSignal;
  stopTimeoutSec?: number;
  /** Output goes only to the log (a detached container's monitor). */
  detached?: boolean;
  now?: () => Date;
  /** Lines for people: warnings (a teardown that failed and is left for the next command), timings with -v. */
  log?: (line: string) => void;
  /**
   * The argv of a process that finishes the network teardown after the container has exited
   * (`strata container __cleanup ID`, as podman's conmon runs `podman container cleanup`): the
   * container's owner hands the teardown to it and returns at once. Without it, the teardown is
   * done inline before returning.
   */
  cleanup?: string[];
  /** Crash tests stop here: `live-registered`, `network-up`, `process-exited`, `handed-off` (the teardown given to the cleanup process), `torn-down`. */
  checkpoint?: (point: string) => void | Promise<void>;
}

export interface AttachIo {
  stdin?: Readable;
  stdout: Writable;
  stderr: Writable;
}

/** A container's mounts as the runtime takes them: volumes become binds of their data directories. */
function runtimeMounts(root: string, rec: ContainerRecord, now: Date): MountSpec[] {
  const out: MountSpec[] = [];
  for (const m of rec.config.mounts ?? []) {
    if (m.type === 'volume') {
      // A volume removed (rm -f) after the container was made comes back empty, as Docker recreates it.
      const v = findVolume(root, m.source) ?? createVolume(root, { name: m.source, anonymous: m.anonymous, now });
      out.push({ type: 'bind', source: v.mountpoint, target: m.target, readonly: m.readonly });
    } else if (m.type === 'bind') out.push({ type: 'bind', source: m.source, target: m.target, readonly: m.readonly });
    else out.push({ type: 'tmpfs', target: m.target, size: m.size, mode: m.mode, readonly: m.readonly });
  }
  return out;
}

interface NetworkSetup {
  mode: RuntimeNetwork;
  etc: { hosts: string; resolvConf: string };
  settings?: NetworkSettings;
  /** Only a bridge network has something to tear down. */
  teardown?: () => Promise<void>;
}

/** The network a start needs, by mode; bridge: reserve the ports, then attach (CNI). */
async function setUpNetwork(root: string, rec: ContainerRecord, o: StartOptions): Promise<NetworkSetup> {
  const runDir = o.runDir ?? DEFAULT_RUN_DIR;
  const mode = rec.config.network;
  const hostname = rec.config.hostname;
  if (mode === 'host') return { mode: 'host', etc: { hosts: hostsFile({ mode: 'host', hostname }), resolvConf: resolvConf({ mode: 'host' }) } };
  if (mode === 'none') return { mode: 'none', etc: { hosts: hostsFile({ mode: 'none', hostname }), resolvConf: resolvConf({ mode: 'none' }) } };
  if (mode.startsWith('container:')) {
    const otherId = mode.slice('container:'.length);
    const other = readContainer(root, otherId);
    if (!other || other.state !== 'running' || !ownerAlive(other.owner)) {
      throw new StrataError('CONFLICT', `cannot join network of a non running container: ${other?.name ?? otherId}`);
    }
    const etc = { hosts: hostsFile({ mode: other.config.network === 'host' ? 'host' : other.network ? 'bridge' : 'none', hostname: other.config.hostname, ip: other.network?.ip }), resolvConf: resolvConf({ mode: other.config.network === 'host' ? 'host' : 'bridge' }) };
    if (other.config.network === 'host') return { mode: 'host', etc };
    const netns = attachmentOf(other.id, { runDir })?.netns ?? (await runtimeState({ runtime: other.config.runtime, stateDir: runtimeDir(root, other.id), id: other.id }).then((s) => (s ? `/proc/${s.pid}/ns/net` : undefined)));
    if (!netns) throw new StrataError('CONFLICT', `cannot join network of container ${other.name}: its network namespace is gone`);
    return { mode: { netns }, etc, settings: other.network };
  }
  const onStep = (s: string, ms: number) => o.log?.(`network: ${s} ${ms} ms`);
  const a = await attach(rec.id, rec.config.publish ?? [], { runDir, env: o.env, onStep });
  return {
    mode: { netns: a.netns },
    etc: { hosts: hostsFile({ mode: 'bridge', hostname, ip: a.ip }), resolvConf: resolvConf({ mode: 'bridge' }) },
    settings: { ip: a.ip, prefixLen: a.prefixLen, gateway: a.gateway, mac: a.mac, ports: a.ports, netns: a.netns },
    teardown: () => detach(rec.id, { runDir, env: o.env, onStep }),
  };
}

/**
 * Start the cleanup process and make it the owner of what is left (the live entry, the network's
 * teardown record), before it can act: it waits until the live entry names it. Undefined when it
 * could not be started (the caller tears down itself).
 */
function handToCleanup(root: string, id: string, argv: string[], runDir: string, checkpoint?: (point: string) => void | Promise<void>): Owner | undefined {
  let child;
  try {
    child = spawn(argv[0], argv.slice(1), { detached: true, stdio: 'ignore' });
  } catch {
    return undefined;
  }
  if (!child.pid) return undefined;
  child.on('error', () => {});
  child.unref();
  const owner = ownerOf(child.pid);
  handOff(id, owner, { runDir });
  // Crash tests stop here (the CLI's hook blocks synchronously): the teardown record names the
  // cleanup process, the live entry still the dying owner.
  void checkpoint?.('handed-off');
  registerLive({ id, root, owner }, runDir);
  return owner;
}

/**
 * What a cleanup process does (`strata container __cleanup ID`): once the live entry names it,
 * the network teardown, then the live entry. Anything that fails is left for the next command's
 * recovery (the entry's owner, this process, is gone by then).
 */
export async function finishCleanup(id: string, o: { runDir?: string; env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {}): Promise<void> {
  const runDir = o.runDir ?? DEFAULT_RUN_DIR;
  for (let i = 0; i < 200; i++) {
    const e = liveEntries(runDir).find((x) => x.id === id);
    // no entry: the run was killed before it named this process, and a recovery took the entry;
    // the network's teardown record names this process all the same, so the teardown is still ours
    if (!e || e.owner.pid === process.pid) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  await detach(id, { runDir, env: o.env });
  unregisterLive(id, runDir);
}

/**
 * Run the container now, in this process, and wait for it: the live entry first (so a crash is
 * found), state running and owned by this process, the network (ports reserved, CNI), the OCI
 * runtime in the foreground; then everything torn down in reverse, the exit recorded, and with
 * `--rm` the container and its anonymous volumes removed. Output is copied to the log file.
 * Resolves to the exit code (128+N for signal N).
 */
export async function runContainer(root: string, id: string, io: AttachIo, o: StartOptions = {}): Promise<number> {
  const runDir = o.runDir ?? DEFAULT_RUN_DIR;
  const now = o.now ?? (() => new Date());
  let rec = readContainer(root, id);
  if (!rec) throw new StrataError('NOT_FOUND', `no such container: ${id}`);
  if (rec.state === 'running' && ownerAlive(rec.owner)) throw new StrataError('CONFLICT', `container ${rec.name} is already running`);
  if (!writableSnapshotsPresent(root, id)) {
    // Snapshots are a cache: make again any that were pruned, from the image's layers.
    const stored = await (await openStore(root)).image(rec.image);
    await ensureWritableSnapshots(root, id, await stored.image.layers());
  }
  const w = writableLayer(root, id);
  w.prepare();
  const owner = currentOwner();
  registerLive({ id, root, owner }, runDir);
  await o.checkpoint?.('live-registered');
  rec = updateContainer(root, id, { state: 'running', startedAt: now().toISOString(), owner, exitCode: undefined, finishedAt: undefined, network: undefined });
  const log = openLog(root, id, now);
  let net: NetworkSetup | undefined;
  let exitCode = 125;
  let setupMs = 0;
  try {
    const mounts = runtimeMounts(root, rec, now());
    const t0 = Date.now();
    net = await setUpNetwork(root, rec, o);
    setupMs = Date.now() - t0;
    if (net.settings) rec = updateContainer(root, id, { network: net.settings });
    await o.checkpoint?.('network-up');
    const tty = rec.config.tty;
    const r = await runProcess({
      id,
      bundleDir: join(containerDir(root, id), 'bundle'),
      stateDir: runtimeDir(root, id),
      rootfs: w.rootfs(),
      args: rec.config.args,
      // Docker's process environment: PATH, HOSTNAME, TERM (with -t), then the container's Env.
      env: mergeEnv([DEFAULT_PATH, `HOSTNAME=${rec.config.hostname}`, ...(tty ? ['TERM=xterm'] : [])], rec.config.env),
      cwd: rec.config.cwd,
      user: rec.config.user,
      hostname: rec.config.hostname,
      network: net.mode,
      etc: net.etc,
      runtime: rec.config.runtime,
      terminal: tty,
      mounts,
      readonlyRootfs: rec.config.readonlyRootfs,
      security: rec.config.security,
      resources: rec.config.resources,
      stdin: tty ? 'inherit' : rec.config.openStdin && io.stdin ? io.stdin : 'ignore',
      stdout: tty ? 'inherit' : o.detached ? log.stdout : tee(io.stdout, log.stdout),
      stderr: tty ? 'inherit' : o.detached ? log.stderr : tee(io.stderr, log.stderr),
      signal: o.signal,
      stopTimeoutMs: (o.stopTimeoutSec ?? 10) * 1000,
    });
    exitCode = r.exitCode;
    await o.checkpoint?.('process-exited');
  } catch (err) {
    exitCode = (err as { exitCode?: number }).exitCode ?? 125;
    throw err;
  } finally {
    // The network goes before the live entry: a crash in between leaves an entry to recover.
    // A teardown that fails keeps its record: the next strata command tries again (recoverHost).
    const t0 = Date.now();
    const cleaner = net?.teardown && o.cleanup ? handToCleanup(root, id, o.cleanup, runDir, o.checkpoint) : undefined;
    if (cleaner) o.log?.(`network: set up in ${setupMs} ms, teardown handed to process ${cleaner.pid}`);
    else {
      await net?.teardown?.().catch((err: Error) => o.log?.(`warning: tearing down the network of ${rec?.name ?? id}: ${err.message}`));
      if (net?.teardown) o.log?.(`network: set up in ${setupMs} ms, torn down in ${Date.now() - t0} ms`);
      unregisterLive(id, runDir);
    }
    await log.close();
    await o.checkpoint?.('torn-down');
    const done = readContainer(root, id);
    if (done) {
      if (done.autoRemove) dropContainer(root, done, { volumes: true });
      else updateContainer(root, id, { state: 'exited', exitCode, finishedAt: now().toISOString(), owner: undefined, network: undefined });
    }
  }
  return exitCode;
}

/** What a monitor writes as the last line of monitor.log when the start failed. */
export function monitorFailureLine(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return `${JSON.stringify({ code: isStrataError(err) ? e.code : 'RUNTIME_ERROR', message: e?.message ?? String(err) })}\n`;
}

/**
 * Start the container under a detached monitor process (`monitor`: the argv that runs
 * `runContainer` for this container in the background, e.g. `strata container __monitor ID`),
 * which owns it, writes its output to the log and records the exit code. Resolves once the
 * container runs (or already finished); a failed start throws the monitor's error (the monitor
 * exits 0 whatever the container's exit code, non-zero only when the start itself failed).
 */
export async function startDetached(root: string, id: string, monitor: string[]): Promise<void> {
  const rec = readContainer(root, id);
  if (!rec) throw new StrataError('NOT_FOUND', `no such container: ${id}`);
  if (rec.config.tty) throw new StrataError('UNSUPPORTED', 'detached containers with a terminal (-d -t) are not supported');
  const startedBefore = rec.startedAt;
  const errFile = join(containerDir(root, id), 'monitor.log');
  const fd = openSync(errFile, 'a');
  const child = spawn(monitor[0], monitor.slice(1), { detached: true, stdio: ['ignore', 'ignore', fd] });
  child.unref();
  closeSync(fd);
  const failed = () => {
    let line: { code?: ErrorCode; message?: string } = {};
    try {
      const text = readFileSync(errFile, 'utf8').trim().split('\n').pop() ?? '';
      line = JSON.parse(text) as typeof line;
    } catch {
      // no structured line
    }
    return new StrataError(line.code ?? 'RUNTIME_ERROR', line.message ?? `container ${rec.name} failed to start (see ${errFile})`);
  };
  let exited: number | null = null;
  const exit = new Promise<void>((r) => child.on('exit', (code) => ((exited = code ?? 1), r())));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const now = readContainer(root, id);
    // Gone (--rm) or exited: the monitor's exit status says whether the start itself failed.
    if (!now || (now.startedAt !== startedBefore && now.state === 'exited')) {
      await Promise.race([exit, new Promise((r) => setTimeout(r, 10_000))]);
      if (exited !== null && exited !== 0) throw failed();
      return;
    }
    // Running means the OCI runtime has the container (its network and mounts are set up by then).
    if (now.startedAt !== startedBefore && now.state === 'running' && existsSync(join(runtimeDir(root, id), id, 'state.json'))) return;
    if (exited !== null && exited !== 0) throw failed();
    if (Date.now() > deadline) throw new StrataError('RUNTIME_ERROR', `container ${rec.name} did not start within 60 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
