import { join } from 'node:path';
import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { containerDir, findContainer, ownerAlive, writableLayer } from '@strata/cow';
import { execProcess } from '@strata/runtime';
import { DEFAULT_PATH, mergeEnv } from './container-lib';
import { action, collect, type CommandContext, type CommandResult, type Io } from '../runner';

interface ExecOpts {
  interactive?: boolean;
  tty?: boolean;
  env: string[];
  workdir?: string;
  user?: string;
}

export async function run(ctx: CommandContext, ref: string, cmd: string[], o: ExecOpts): Promise<CommandResult> {
  const root = ctx.globals.root;
  const rec = findContainer(root, ref);
  if (rec.state !== 'running' || !ownerAlive(rec.owner)) throw new StrataError('CONFLICT', `container ${rec.name} is not running`);
  if (cmd[0] === '--') cmd = cmd.slice(1);
  if (!cmd.length) throw new StrataError('USAGE', 'no command given');
  if (o.tty && !(ctx.io.stdin as NodeJS.ReadStream).isTTY) throw new StrataError('USAGE', 'the input device is not a TTY');
  const w = writableLayer(root, rec);
  const exitCode = await execProcess({
    runtime: rec.config.runtime,
    stateDir: join(containerDir(root, rec.id), 'runtime'),
    id: rec.id,
    args: cmd,
    // Docker: the container's environment (PATH, HOSTNAME, its Env) plus -e.
    env: mergeEnv(mergeEnv([DEFAULT_PATH, `HOSTNAME=${rec.config.hostname}`], rec.config.env), o.env),
    cwd: o.workdir ?? rec.config.cwd,
    user: o.user ?? rec.config.user,
    viewDirs: w.mode === 'copy' ? [w.upperdir] : [w.upperdir, ...w.lowerdirs],
    terminal: o.tty,
    stdin: o.tty ? 'inherit' : o.interactive ? (ctx.io.stdin as never) : 'ignore',
    stdout: o.tty ? 'inherit' : ctx.io.stdout,
    stderr: o.tty ? 'inherit' : ctx.io.stderr,
  });
  return { kind: 'none', exitCode };
}

export function register(container: Command, io: Io): void {
  container
    .command('exec')
    .description('run a command in a running container')
    .argument('<container>', 'name or ID')
    .argument('<command...>', 'command and arguments')
    .option('-i, --interactive', 'keep stdin attached')
    .option('-t, --tty', 'allocate a pseudo-terminal')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable (repeatable)', collect, [])
    .option('-w, --workdir <dir>', 'working directory')
    .option('-u, --user <user>', 'user: name|uid[:group|gid]')
    .passThroughOptions()
    .allowUnknownOption()
    .action(action(io, (ctx, ref: string, cmd: string[], o: ExecOpts) => run(ctx, ref, cmd, o)));
}
