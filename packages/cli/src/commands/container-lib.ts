// Shared machinery of the `container` commands: create a container from an image, run it in
// the foreground or under a detached monitor, stop it. Composes @strata/cow (writable layer,
// records) and @strata/runtime (the OCI runtime), which may not import each other.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, createWriteStream, existsSync, openSync, type WriteStream } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { Writable } from 'node:stream';
import { StrataError, isStrataError } from '@strata/errors';
import {
  containerDir, ensureSnapshots, listContainers, readContainer, recoverContainers, removeContainerDir, updateContainer, writableLayer,
  writeContainer, currentOwner, ownerAlive, snapshotUnpackCount, overlaySupported, type ContainerRecord,
} from '@strata/cow';
import { findRuntime, runProcess, runtimeKill } from '@strata/runtime';
import { openStore } from '@strata/image-store';
import { chainIds, type Digest } from '@strata/oci';
import { STRATA_ENTRY } from './container-entry';

export interface CreateOptions {
  name?: string;
  rm?: boolean;
  interactive?: boolean;
  tty?: boolean;
  env?: string[];
  workdir?: string;
  user?: string;
  network?: string;
  entrypoint?: string;
  runtime?: string;
  hostname?: string;
  volume?: string[];
  tmpfs?: string[];
  readOnly?: boolean;
}

type MountConfig = NonNullable<ContainerRecord['config']['mounts']>[number];

/** `-v SRC:DST[:ro|rw]` (SRC an absolute host path: strata has no named volumes) and `--tmpfs DST[:size=N,mode=M]`. */
export function parseMounts(volumes: string[], tmpfs: string[]): MountConfig[] {
  const out: MountConfig[] = [];
  for (const v of volumes) {
    const [src, dst, opt, ...rest] = v.split(':');
    if (!src || !dst || rest.length || (opt !== undefined && opt !== 'ro' && opt !== 'rw')) {
      throw new StrataError('USAGE', `invalid volume "${v}": expected /host/path:/container/path[:ro|rw]`);
    }
    if (!isAbsolute(src)) throw new StrataError('USAGE', `invalid volume "${v}": the source must be an absolute host path (strata has no named volumes)`);
    if (!isAbsolute(dst)) throw new StrataError('USAGE', `invalid volume "${v}": the target must be an absolute path`);
    if (!existsSync(src)) throw new StrataError('NOT_FOUND', `volume source ${src} does not exist`);
    out.push({ type: 'bind', source: src, target: dst, readonly: opt === 'ro' });
  }
  for (const t of tmpfs) {
    const [dst, opts = ''] = t.split(':');
    if (!isAbsolute(dst)) throw new StrataError('USAGE', `invalid --tmpfs "${t}": the target must be an absolute path`);
    const m: MountConfig = { type: 'tmpfs', target: dst };
    for (const o of opts.split(',').filter(Boolean)) {
      const [k, val] = o.split('=');
      if (k === 'size' && /^\d+[kmg]?$/i.test(val ?? '')) m.size = parseSize(val);
      else if (k === 'mode' && /^[0-7]{3,4}$/.test(val ?? '')) m.mode = parseInt(val, 8);
      else throw new StrataError('USAGE', `invalid --tmpfs option "${o}": size=N[k|m|g] or mode=OCTAL`);
    }
    out.push(m);
  }
  return out;
}

function parseSize(v: string): number {
  const n = parseInt(v, 10);
  const unit = v.slice(-1).toLowerCase();
  return unit === 'k' ? n * 1024 : unit === 'm' ? n * 1024 ** 2 : unit === 'g' ? n * 1024 ** 3 : n;
}

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

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

/** `-e K=V` or `-e K` (value from strata's own environment, dropped when unset), as Docker. */
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

export async function createContainer(
  root: string,
  imageRef: string,
  cmd: string[],
  o: CreateOptions,
  env: NodeJS.ProcessEnv,
  log?: (line: string) => void,
): Promise<ContainerRecord> {
  await recoverContainers(root);
  const network = o.network ?? 'host';
  if (network !== 'host' && network !== 'none') {
    throw new StrataError('USAGE', `--network ${network}: strata supports "host" and "none"`, { hint: 'there is no bridge network without a daemon' });
  }
  if (o.runtime) findRuntime(o.runtime);
  const store = await openStore(root);
  const stored = await store.image(imageRef);
  const config = (await stored.image.config()).config ?? {};
  const existing = listContainers(root);
  if (o.name !== undefined) {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(o.name)) throw new StrataError('USAGE', `invalid container name "${o.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const clash = existing.find((c) => c.name === o.name);
    if (clash) throw new StrataError('CONFLICT', `the container name "${o.name}" is already in use by container ${clash.id}`, { hint: 'remove it or choose another name' });
  }
  // Docker: --entrypoint replaces the image's ENTRYPOINT and drops its CMD; `--entrypoint ''` clears it.
  let entrypoint = config.Entrypoint ?? [];
  let command = config.Cmd ?? [];
  if (o.entrypoint !== undefined) {
    entrypoint = o.entrypoint === '' ? [] : [o.entrypoint];
    command = [];
  }
  // `IMAGE -- CMD…`: the `--` only shields CMD's options from strata's global ones.
  if (cmd[0] === '--') cmd = cmd.slice(1);
  if (cmd.length) command = cmd;
  const args = [...entrypoint, ...command];
  if (!args.length) throw new StrataError('USAGE', 'no command specified', { hint: 'the image has no CMD or ENTRYPOINT: give one after the image name' });
  const id = randomBytes(32).toString('hex');
  const layers = await stored.image.layers();
  const diffIds = (await stored.image.config()).rootfs.diff_ids as Digest[];
  const rec: ContainerRecord = {
    id,
    name: o.name ?? randomName(new Set(existing.map((c) => c.name))),
    image: stored.id,
    imageRef,
    created: new Date().toISOString(),
    state: 'created',
    config: {
      args,
      env: mergeEnv(config.Env ?? [], envArgs(o.env ?? [], env)),
      cwd: o.workdir || config.WorkingDir || '/',
      user: o.user ?? config.User ?? '',
      hostname: o.hostname ?? id.slice(0, 12),
      network,
      tty: !!o.tty,
      openStdin: !!o.interactive,
      runtime: o.runtime,
      entrypoint,
      cmd: command,
      mounts: parseMounts(o.volume ?? [], o.tmpfs ?? []),
      readonlyRootfs: !!o.readOnly,
    },
    snapshots: chainIds(diffIds),
    diffIds,
    cow: overlaySupported() ? 'overlay' : 'copy',
    autoRemove: !!o.rm,
  };
  // The record first: from now on GC sees the snapshots as used.
  writeContainer(root, rec);
  try {
    const before = snapshotUnpackCount();
    await ensureSnapshots(root, layers);
    log?.(`snapshots: ${snapshotUnpackCount() - before} unpacked, ${layers.length - (snapshotUnpackCount() - before)} reused`);
    writableLayer(root, rec).prepare();
  } catch (err) {
    removeContainerDir(root, id);
    throw err;
  }
  return rec;
}

/** The container's output, as Docker's json-file driver: one JSON object per chunk, both streams in order. */
export const LOG_FILE = 'container-log.jsonl';

export interface LogRecord {
  stream: 'stdout' | 'stderr';
  time: string;
  /** Base64 of the bytes (binary-safe, unlike Docker's UTF-8 `log` field). */
  data: string;
}

function jsonLog(file: WriteStream, stream: LogRecord['stream']): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      const rec: LogRecord = { stream, time: new Date().toISOString(), data: chunk.toString('base64') };
      if (file.write(`${JSON.stringify(rec)}\n`)) cb();
      else file.once('drain', () => cb());
    },
  });
}

/** Writes to several destinations (the terminal and the container's log file). */
function tee(...dests: Writable[]): Writable {
  return new Writable({
    write(chunk, _enc, cb) {
      let pending = dests.length;
      const done = () => --pending === 0 && cb();
      for (const d of dests) if (d.write(chunk)) done();
      else d.once('drain', done);
    },
  });
}

export interface AttachIo {
  stdin?: NodeJS.ReadableStream;
  stdout: Writable;
  stderr: Writable;
}

/**
 * Run the container's process now and wait: state → running (owned by this process), then
 * exited with the exit code. Output is copied to the container's log files as well. Ctrl-C /
 * SIGTERM stop the container (SIGTERM, SIGKILL after the stop timeout; a second signal kills
 * at once). With `autoRemove` the container is removed afterwards.
 */
export async function runAttached(root: string, id: string, io: AttachIo, opts: { stopTimeoutSec?: number; detached?: boolean } = {}): Promise<number> {
  let rec = readContainer(root, id);
  if (!rec) throw new StrataError('NOT_FOUND', `no such container: ${id}`);
  if (rec.state === 'running' && ownerAlive(rec.owner)) throw new StrataError('CONFLICT', `container ${rec.name} is already running`);
  const dir = containerDir(root, id);
  await ensureSnapshotsOf(root, rec);
  const w = writableLayer(root, rec);
  w.prepare();
  rec = updateContainer(root, id, { state: 'running', startedAt: new Date().toISOString(), owner: currentOwner(), exitCode: undefined, finishedAt: undefined });
  const logFile = createWriteStream(join(dir, LOG_FILE), { flags: 'a' });
  const outLog = jsonLog(logFile, 'stdout');
  const errLog = jsonLog(logFile, 'stderr');
  const abort = new AbortController();
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals === 1) abort.abort();
    else void runtimeKill(findRuntime(rec!.config.runtime), join(dir, 'runtime'), id, 'KILL');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  let exitCode: number;
  try {
    const tty = rec.config.tty;
    const r = await runProcess({
      id,
      bundleDir: join(dir, 'bundle'),
      stateDir: join(dir, 'runtime'),
      rootfs: w.rootfs(),
      args: rec.config.args,
      // Docker's process environment: PATH, HOSTNAME, TERM (with -t), then the container's Env.
      env: mergeEnv([DEFAULT_PATH, `HOSTNAME=${rec.config.hostname}`, ...(tty ? ['TERM=xterm'] : [])], rec.config.env),
      cwd: rec.config.cwd,
      user: rec.config.user,
      hostname: rec.config.hostname,
      network: rec.config.network,
      runtime: rec.config.runtime,
      terminal: tty,
      mounts: rec.config.mounts,
      readonlyRootfs: rec.config.readonlyRootfs,
      stdin: tty ? 'inherit' : rec.config.openStdin && io.stdin ? (io.stdin as never) : 'ignore',
      stdout: tty ? 'inherit' : opts.detached ? outLog : tee(io.stdout, outLog),
      stderr: tty ? 'inherit' : opts.detached ? errLog : tee(io.stderr, errLog),
      signal: abort.signal,
      stopTimeoutMs: (opts.stopTimeoutSec ?? 10) * 1000,
    });
    exitCode = r.exitCode;
  } catch (err) {
    exitCode = (err as { exitCode?: number }).exitCode ?? 125;
    finish(root, id, exitCode);
    await closeLogs(logFile);
    if (rec.autoRemove) removeContainerDir(root, id);
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  }
  finish(root, id, exitCode);
  await closeLogs(logFile);
  if (rec.autoRemove) removeContainerDir(root, id);
  return exitCode;
}

function finish(root: string, id: string, exitCode: number): void {
  const rec = readContainer(root, id);
  if (!rec) return;
  updateContainer(root, id, { state: 'exited', exitCode, finishedAt: new Date().toISOString(), owner: undefined });
}

function closeLogs(...logs: WriteStream[]): Promise<void> {
  return Promise.all(logs.map((l) => new Promise<void>((r) => l.end(() => r())))).then(() => undefined);
}

async function ensureSnapshotsOf(root: string, rec: ContainerRecord): Promise<void> {
  // Snapshots are a cache: re-create any that were pruned, from the image's layers.
  const missing = writableLayer(root, rec).lowerdirs.some((d) => !existsSync(d));
  if (!missing) return;
  if (!rec.image) throw new StrataError('NOT_FOUND', `container ${rec.name}: its layers are gone`);
  const store = await openStore(root);
  const stored = await store.image(rec.image);
  await ensureSnapshots(root, await stored.image.layers());
}

/**
 * Start the container under a detached monitor process (`strata container __monitor ID`) that
 * owns it, writes its output to the log files and records the exit code. Returns once the
 * container is running (or already finished).
 */
export async function startDetached(root: string, id: string, stopTimeoutSec?: number): Promise<void> {
  const rec = readContainer(root, id);
  if (!rec) throw new StrataError('NOT_FOUND', `no such container: ${id}`);
  if (rec.config.tty) throw new StrataError('UNSUPPORTED', 'detached containers with a terminal (-d -t) are not supported');
  const startedBefore = rec.startedAt;
  const errFile = join(containerDir(root, id), 'monitor.log');
  const fd = openSync(errFile, 'a');
  const args = [STRATA_ENTRY(), '--root', root, 'container', '__monitor', id];
  if (stopTimeoutSec !== undefined) args.push('--stop-timeout', String(stopTimeoutSec));
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', 'ignore', fd] });
  child.unref();
  closeSync(fd);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const now = readContainer(root, id);
    if (!now) return;
    if (now.startedAt !== startedBefore && (now.state === 'running' || now.state === 'exited')) return;
    if (child.exitCode !== null && child.exitCode !== 0) throw new StrataError('RUNTIME_ERROR', `container ${rec.name} failed to start (see ${errFile})`);
    if (Date.now() > deadline) throw new StrataError('RUNTIME_ERROR', `container ${rec.name} did not start within 30 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Send a signal to a running container's process. */
export async function signalContainer(root: string, rec: ContainerRecord, signal: string): Promise<void> {
  if (rec.state !== 'running') throw new StrataError('CONFLICT', `container ${rec.name} is not running`);
  await runtimeKill(findRuntime(rec.config.runtime), join(containerDir(root, rec.id), 'runtime'), rec.id, signal);
}

/** Wait until the container is no longer running (its owner records the exit). */
export async function waitStopped(root: string, id: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rec = readContainer(root, id);
    if (!rec || rec.state !== 'running') return true;
    if (!ownerAlive(rec.owner)) {
      await recoverContainers(root);
      return true;
    }
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Docker's `stop`: SIGTERM, then SIGKILL after `timeoutSec`. */
export async function stopContainer(root: string, rec: ContainerRecord, timeoutSec: number): Promise<void> {
  if (rec.state !== 'running') return;
  await signalContainer(root, rec, 'TERM').catch(() => {});
  if (await waitStopped(root, rec.id, timeoutSec * 1000)) return;
  await signalContainer(root, rec, 'KILL').catch(() => {});
  await waitStopped(root, rec.id, 10_000);
}

export function isNotFound(err: unknown): boolean {
  return isStrataError(err, 'NOT_FOUND');
}
