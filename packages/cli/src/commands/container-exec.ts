import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { execInContainer } from '@strata/container';
import { action, collect, type CommandContext, type CommandResult, type Io } from '../runner';

interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  env: string[];
  workdir?: string;
  user?: string;
}

export async function run(ctx: CommandContext, ref: string, cmd: string[], o: ExecFlags): Promise<CommandResult> {
  if (o.tty && !(ctx.io.stdin as NodeJS.ReadStream).isTTY) throw new StrataError('USAGE', 'the input device is not a TTY');
  const exitCode = await execInContainer(ctx.globals.root, ref, {
    args: cmd,
    env: o.env,
    workdir: o.workdir,
    user: o.user,
    tty: o.tty,
    stdin: o.tty ? 'inherit' : o.interactive ? (ctx.io.stdin as Readable) : 'ignore',
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
    .action(action(io, (ctx, ref: string, cmd: string[], o: ExecFlags) => run(ctx, ref, cmd, o)));
}
