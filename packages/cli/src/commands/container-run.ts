import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import {
  createContainer, findContainer, finishCleanup, killContainer, monitorFailureLine, readContainer, runContainer, startDetached, type CreateOptions,
} from '@strata/container';
import { action, collect, type CommandContext, type CommandResult, type Io } from '../runner';
import { pauseHook } from '../test-hooks';

/** The flags of `create` and `run`, as commander hands them over. */
export interface CreateFlags extends Omit<CreateOptions, 'image' | 'command' | 'envSource' | 'now' | 'log'> {
  detach?: boolean;
  stopTimeout?: string;
}

function stopTimeout(o: { stopTimeout?: string }): number | undefined {
  if (o.stopTimeout === undefined) return undefined;
  const n = Number(o.stopTimeout);
  if (!Number.isInteger(n) || n < 0) throw new StrataError('USAGE', `--stop-timeout must be a whole number of seconds, not "${o.stopTimeout}"`);
  return n;
}

function checkTty(ctx: CommandContext, o: { tty?: boolean; detach?: boolean }): void {
  if (o.tty && !o.detach && !(ctx.io.stdin as NodeJS.ReadStream).isTTY) {
    throw new StrataError('USAGE', 'the input device is not a TTY', { hint: 'drop -t when stdin is not a terminal' });
  }
}

function create(ctx: CommandContext, image: string, command: string[], o: CreateFlags) {
  const { detach: _d, stopTimeout: _s, ...flags } = o;
  return createContainer(ctx.globals.root, {
    ...flags,
    image,
    command,
    envSource: ctx.io.env,
    now: ctx.now(),
    log: (l) => (l.startsWith('WARNING') ? ctx.log(l) : ctx.debug(l)),
    checkpoint: pauseHook(ctx.io.env),
  });
}

/**
 * The argv of the process that finishes a foreground container's network teardown after it
 * exited (`container __cleanup ID`), so `run` returns without waiting for it; `STRATA_CLEANUP=inline`
 * tears down before returning (for measurements).
 */
function cleanupArgv(ctx: CommandContext, id: string): string[] | undefined {
  if (ctx.io.env.STRATA_CLEANUP === 'inline') return undefined;
  return [process.execPath, process.argv[1], '--root', ctx.globals.root, 'container', '__cleanup', id];
}

/** The argv of the process that owns a detached container: this same program, `container __monitor ID`. */
function monitorArgv(ctx: CommandContext, id: string, timeout: number | undefined): string[] {
  const argv = [process.execPath, process.argv[1], '--root', ctx.globals.root, 'container', '__monitor', id];
  if (timeout !== undefined) argv.push('--stop-timeout', String(timeout));
  return argv;
}

/**
 * Run in the foreground, as `docker run` (attached): the first SIGINT/SIGTERM/SIGHUP stops the
 * container (SIGTERM, SIGKILL after the stop timeout), a second kills it at once. A process that
 * cannot start exits 127 (not found) / 126 / 125 with the reason, as Docker.
 */
async function attached(ctx: CommandContext, id: string, stdin: Readable | undefined, timeout: number | undefined): Promise<CommandResult> {
  const root = ctx.globals.root;
  const abort = new AbortController();
  let signals = 0;
  const onSignal = () => {
    if (++signals === 1) abort.abort();
    else {
      const rec = readContainer(root, id);
      if (rec) void killContainer(root, rec, 'KILL').catch(() => {});
    }
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
  try {
    const exitCode = await runContainer(root, id, { stdin, stdout: ctx.io.stdout, stderr: ctx.io.stderr }, {
      signal: abort.signal,
      stopTimeoutSec: timeout,
      env: ctx.io.env,
      now: () => ctx.now(),
      log: (l) => (l.startsWith('warning') ? ctx.log(`strata: ${l}`) : ctx.debug(l)),
      cleanup: cleanupArgv(ctx, id),
      checkpoint: pauseHook(ctx.io.env),
    });
    return { kind: 'none', exitCode };
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    if (err instanceof StrataError && code !== undefined) {
      ctx.io.stderr.write(`strata: ${err.message}\n`);
      return { kind: 'none', exitCode: code };
    }
    if (err instanceof StrataError) {
      // Docker's `run` exits 125 when the container could not be started.
      ctx.io.stderr.write(`strata: ${err.message}\n`);
      if (err.hint) ctx.io.stderr.write(`hint: ${err.hint}\n`);
      return { kind: 'none', exitCode: 125 };
    }
    throw err;
  } finally {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, onSignal);
  }
}

export async function runCreate(ctx: CommandContext, image: string, cmd: string[], o: CreateFlags): Promise<CommandResult> {
  const rec = await create(ctx, image, cmd, o);
  return { kind: 'text', text: rec.id };
}

export async function runRun(ctx: CommandContext, image: string, cmd: string[], o: CreateFlags): Promise<CommandResult> {
  checkTty(ctx, o);
  const t = stopTimeout(o);
  const rec = await create(ctx, image, cmd, o);
  if (o.detach) {
    try {
      await startDetached(ctx.globals.root, rec.id, monitorArgv(ctx, rec.id, t));
    } catch (err) {
      if (!(err instanceof StrataError)) throw err;
      // Docker's `run -d` exits 125 too when the container could not be started.
      ctx.io.stderr.write(`strata: ${err.message}\n`);
      if (err.hint) ctx.io.stderr.write(`hint: ${err.hint}\n`);
      return { kind: 'none', exitCode: 125 };
    }
    return { kind: 'text', text: rec.id };
  }
  return attached(ctx, rec.id, rec.config.openStdin ? (ctx.io.stdin as Readable) : undefined, t);
}

export async function runStart(ctx: CommandContext, refs: string[], o: { attach?: boolean; interactive?: boolean; stopTimeout?: string }): Promise<CommandResult> {
  const root = ctx.globals.root;
  const t = stopTimeout(o);
  if (o.attach || o.interactive) {
    if (refs.length !== 1) throw new StrataError('USAGE', 'you cannot start and attach multiple containers at once');
    const rec = findContainer(root, refs[0]);
    return attached(ctx, rec.id, o.interactive ? (ctx.io.stdin as Readable) : undefined, t);
  }
  const out: string[] = [];
  for (const ref of refs) {
    const rec = findContainer(root, ref);
    if (rec.state !== 'running') await startDetached(root, rec.id, monitorArgv(ctx, rec.id, t));
    out.push(ref);
  }
  return { kind: 'text', text: out.join('\n') };
}

/** Hidden: the process that owns a detached container until it exits (exit 0; 2 when the start failed). */
export async function runMonitor(ctx: CommandContext, id: string, o: { stopTimeout?: string }): Promise<CommandResult> {
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.on('SIGTERM', stop);
  try {
    await runContainer(ctx.globals.root, id, { stdout: ctx.io.stdout, stderr: ctx.io.stderr }, { detached: true, signal: abort.signal, stopTimeoutSec: stopTimeout(o), env: ctx.io.env, now: () => ctx.now(), log: (l) => ctx.io.stderr.write(`${l}\n`) });
    return { kind: 'none', exitCode: 0 };
  } catch (err) {
    ctx.io.stderr.write(monitorFailureLine(err));
    return { kind: 'none', exitCode: 2 };
  } finally {
    process.off('SIGTERM', stop);
  }
}

function createFlags(cmd: Command): Command {
  return cmd
    .argument('<image>', 'image reference or ID')
    .argument('[command...]', "command and arguments (default: the image's ENTRYPOINT + CMD)")
    .option('--name <name>', 'container name')
    .option('--rm', 'remove the container and its anonymous volumes when it exits')
    .option('-i, --interactive', 'keep stdin attached')
    .option('-t, --tty', 'allocate a pseudo-terminal')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable (KEY alone: take it from this environment)', collect, [])
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user>', 'user: name|uid[:group|gid]')
    .option('--network <mode>', 'bridge (default: strata0, NAT, -p), host, none, or container:NAME|ID')
    .option('-p, --publish <[ip:][hostPort:]containerPort[/proto]>', 'publish a container port on the host (repeatable)', collect, [])
    .option('-P, --publish-all', "publish every port the image EXPOSEs on an ephemeral host port")
    .option('--expose <port[/proto]>', 'expose a port (for -P) (repeatable)', collect, [])
    .option('--entrypoint <cmd>', "override the image's ENTRYPOINT ('' clears it)")
    .option('--hostname <name>', 'container host name (default: the short container ID)')
    .option('-v, --volume <spec>', 'NAME:/path[:ro|:nocopy], /host/path:/path[:ro], or /path (an anonymous volume) (repeatable)', collect, [])
    .option('--mount <spec>', 'type=volume|bind|tmpfs,source=…,target=…[,readonly][,volume-nocopy][,tmpfs-size=…] (repeatable)', collect, [])
    .option('--tmpfs <dst[:size=N,mode=M]>', 'mount a tmpfs (repeatable)', collect, [])
    .option('--volumes-from <container[:ro|:rw]>', "mount another container's volumes and bind mounts (repeatable)", collect, [])
    .option('--read-only', 'mount the root filesystem read-only')
    .option('--security-opt <opt>', 'seccomp=unconfined|PROFILE.json, no-new-privileges (repeatable)', collect, [])
    .option('--cap-add <cap>', 'add a Linux capability (or ALL) (repeatable)', collect, [])
    .option('--cap-drop <cap>', 'drop a Linux capability (or ALL) (repeatable)', collect, [])
    .option('--privileged', 'every capability and device, no seccomp filter (where the host allows it)')
    .option('-m, --memory <bytes>', 'memory limit (e.g. 32m)')
    .option('--memory-swap <bytes>', 'memory + swap limit (-1: unlimited swap)')
    .option('--cpus <n>', 'CPUs (e.g. 0.5)')
    .option('--pids-limit <n>', 'most processes at once (-1: unlimited)')
    .option('--runtime <name>', 'OCI runtime: runc, crun or a path (default $STRATA_RUNTIME, runc, crun)')
    .passThroughOptions()
    // The program parses its own options anywhere, so `sh -c x` can reach us split into
    // operands and "unknown options"; commander re-joins them in order when unknowns are allowed.
    .allowUnknownOption();
}

export function register(container: Command, io: Io): void {
  createFlags(container.command('create').description('create a container from an image (not started)')).action(
    action(io, (ctx, image: string, cmd: string[], o: CreateFlags) => runCreate(ctx, image, cmd, o)),
  );
  createFlags(container.command('run').description('create and run a container'))
    .option('-d, --detach', 'run in the background and print the container ID')
    .option('--stop-timeout <seconds>', 'on Ctrl-C/SIGTERM: seconds between SIGTERM and SIGKILL (default 10)')
    .action(action(io, (ctx, image: string, cmd: string[], o: CreateFlags) => runRun(ctx, image, cmd, o)));
  container
    .command('start')
    .description('start stopped containers (in the background unless -a)')
    .argument('<container...>', 'names or IDs')
    .option('-a, --attach', "attach stdout/stderr and wait; exit with the container's code")
    .option('-i, --interactive', 'attach stdin too')
    .option('--stop-timeout <seconds>', 'seconds between SIGTERM and SIGKILL when stopped with a signal')
    .action(action(io, (ctx, refs: string[], o: { attach?: boolean; interactive?: boolean; stopTimeout?: string }) => runStart(ctx, refs, o)));
  container
    .command('__cleanup', { hidden: true })
    .argument('<id>')
    .action(action(io, async (ctx, id: string) => {
      await finishCleanup(id, { env: ctx.io.env });
      return { kind: 'none' };
    }));
  container
    .command('__monitor', { hidden: true })
    .argument('<id>')
    .option('--stop-timeout <seconds>')
    .action(action(io, (ctx, id: string, o: { stopTimeout?: string }) => runMonitor(ctx, id, o)));
}
