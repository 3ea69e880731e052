import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { findContainer, readContainer } from '@strata/cow';
import { action, collect, type CommandContext, type CommandResult, type Io } from '../runner';
import { createContainer, runAttached, startDetached, type CreateOptions } from './container-lib';

interface RunOpts extends CreateOptions {
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

export async function runCreate(ctx: CommandContext, image: string, cmd: string[], o: CreateOptions): Promise<CommandResult> {
  const rec = await createContainer(ctx.globals.root, image, cmd, o, ctx.io.env, ctx.debug);
  return { kind: 'text', text: rec.id };
}

export async function runRun(ctx: CommandContext, image: string, cmd: string[], o: RunOpts): Promise<CommandResult> {
  checkTty(ctx, o);
  const t = stopTimeout(o);
  const rec = await createContainer(ctx.globals.root, image, cmd, o, ctx.io.env, ctx.debug);
  if (o.detach) {
    await startDetached(ctx.globals.root, rec.id, t);
    return { kind: 'text', text: rec.id };
  }
  return attached(ctx, () => runAttached(ctx.globals.root, rec.id, { stdin: ctx.io.stdin, stdout: ctx.io.stdout, stderr: ctx.io.stderr }, { stopTimeoutSec: t }));
}

/** Like `docker run`: a process that cannot start exits 127 (not found) / 126 / 125 with the reason. */
async function attached(ctx: CommandContext, fn: () => Promise<number>): Promise<CommandResult> {
  try {
    return { kind: 'none', exitCode: await fn() };
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    if (err instanceof StrataError && code !== undefined) {
      ctx.io.stderr.write(`strata: ${err.message}\n`);
      return { kind: 'none', exitCode: code };
    }
    throw err;
  }
}

export async function runStart(ctx: CommandContext, refs: string[], o: { attach?: boolean; interactive?: boolean; stopTimeout?: string }): Promise<CommandResult> {
  const root = ctx.globals.root;
  const t = stopTimeout(o);
  if (o.attach || o.interactive) {
    if (refs.length !== 1) throw new StrataError('USAGE', 'you cannot start and attach multiple containers at once');
    const rec = findContainer(root, refs[0]);
    return attached(ctx, () => runAttached(root, rec.id, { stdin: o.interactive ? ctx.io.stdin : undefined, stdout: ctx.io.stdout, stderr: ctx.io.stderr }, { stopTimeoutSec: t }));
  }
  const out: string[] = [];
  for (const ref of refs) {
    const rec = findContainer(root, ref);
    if (rec.state === 'running') {
      out.push(ref);
      continue;
    }
    await startDetached(root, rec.id, t);
    out.push(ref);
  }
  return { kind: 'text', text: out.join('\n') };
}

/** Hidden: the process that owns a detached container until it exits. */
export async function runMonitor(ctx: CommandContext, id: string, o: { stopTimeout?: string }): Promise<CommandResult> {
  const rec = readContainer(ctx.globals.root, id);
  if (!rec) throw new StrataError('NOT_FOUND', `no such container: ${id}`);
  const exitCode = await runAttached(ctx.globals.root, id, { stdout: ctx.io.stdout, stderr: ctx.io.stderr }, { stopTimeoutSec: stopTimeout(o), detached: true });
  return { kind: 'none', exitCode };
}

function createFlags(cmd: Command): Command {
  return cmd
    .argument('<image>', 'image reference or ID')
    .argument('[command...]', 'command and arguments (default: the image\'s ENTRYPOINT + CMD)')
    .option('--name <name>', 'container name')
    .option('--rm', 'remove the container when it exits')
    .option('-i, --interactive', 'keep stdin attached')
    .option('-t, --tty', 'allocate a pseudo-terminal')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable (KEY alone: take it from this environment)', collect, [])
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user>', 'user: name|uid[:group|gid]')
    .option('--network <mode>', 'host (default: the host network stack) or none (only loopback)')
    .option('--entrypoint <cmd>', "override the image's ENTRYPOINT ('' clears it)")
    .option('--hostname <name>', 'container host name (default: the short container ID)')
    // Not `-v`: strata's global -v (verbose) is parsed anywhere on the command line.
    .option('--volume <src:dst[:ro]>', 'bind-mount a host path (absolute) into the container (repeatable)', collect, [])
    .option('--tmpfs <dst[:size=N,mode=M]>', 'mount a tmpfs (repeatable)', collect, [])
    .option('--read-only', 'mount the root filesystem read-only')
    .option('--runtime <name>', 'OCI runtime: runc, crun or a path (default $STRATA_RUNTIME, runc, crun)')
    .passThroughOptions()
    // The program parses its own options anywhere, so `sh -c x` can reach us split into
    // operands and "unknown options"; commander re-joins them in order when unknowns are allowed.
    .allowUnknownOption();
}

export function register(container: Command, io: Io): void {
  createFlags(container.command('create').description('create a container from an image (not started)')).action(
    action(io, (ctx, image: string, cmd: string[], o: CreateOptions) => runCreate(ctx, image, cmd, o)),
  );
  createFlags(container.command('run').description('create and run a container'))
    .option('-d, --detach', 'run in the background and print the container ID')
    .option('--stop-timeout <seconds>', 'on Ctrl-C/SIGTERM: seconds between SIGTERM and SIGKILL (default 10)')
    .action(action(io, (ctx, image: string, cmd: string[], o: RunOpts) => runRun(ctx, image, cmd, o)));
  container
    .command('start')
    .description('start stopped containers (in the background unless -a)')
    .argument('<container...>', 'names or IDs')
    .option('-a, --attach', 'attach stdout/stderr and wait; exit with the container\'s code')
    .option('-i, --interactive', 'attach stdin too')
    .option('--stop-timeout <seconds>', 'seconds between SIGTERM and SIGKILL when stopped with a signal')
    .action(action(io, (ctx, refs: string[], o: { attach?: boolean; interactive?: boolean; stopTimeout?: string }) => runStart(ctx, refs, o)));
  container
    .command('__monitor', { hidden: true })
    .argument('<id>')
    .option('--stop-timeout <seconds>')
    .action(action(io, (ctx, id: string, o: { stopTimeout?: string }) => runMonitor(ctx, id, o)));
}
