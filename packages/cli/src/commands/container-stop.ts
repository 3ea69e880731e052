import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { findContainer, killContainer, recover, stopContainer, waitContainer } from '@strata/container';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';

export async function runStop(ctx: CommandContext, refs: string[], o: { time?: string }): Promise<CommandResult> {
  const root = ctx.globals.root;
  await recover(root);
  const t = o.time === undefined ? 10 : Number(o.time);
  if (!Number.isInteger(t) || t < 0) throw new StrataError('USAGE', `--time must be a whole number of seconds, not "${o.time}"`);
  for (const ref of refs) await stopContainer(root, findContainer(root, ref), t);
  return { kind: 'text', text: refs.join('\n') };
}

export async function runKill(ctx: CommandContext, refs: string[], o: { signal?: string }): Promise<CommandResult> {
  const root = ctx.globals.root;
  await recover(root);
  for (const ref of refs) await killContainer(root, findContainer(root, ref), o.signal ?? 'KILL');
  return { kind: 'text', text: refs.join('\n') };
}

/** Docker's `wait`: block until each container stops; print its exit code. */
export async function runWait(ctx: CommandContext, refs: string[]): Promise<CommandResult> {
  const codes: number[] = [];
  for (const ref of refs) codes.push(await waitContainer(ctx.globals.root, findContainer(ctx.globals.root, ref).id));
  return { kind: 'text', text: codes.join('\n') };
}

export function register(container: Command, io: Io): void {
  container
    .command('stop')
    .description('stop running containers: SIGTERM, then SIGKILL after a grace period')
    .argument('<container...>', 'names or IDs')
    .option('-t, --time <seconds>', 'seconds to wait before killing (default 10)')
    .action(action(io, (ctx, refs: string[], o: { time?: string }) => runStop(ctx, refs, o)));
  container
    .command('kill')
    .description('send a signal (default KILL) to running containers')
    .argument('<container...>', 'names or IDs')
    .option('-s, --signal <signal>', 'signal name or number (default KILL)')
    .action(action(io, (ctx, refs: string[], o: { signal?: string }) => runKill(ctx, refs, o)));
  container
    .command('wait')
    .description('wait until containers stop, then print their exit codes')
    .argument('<container...>', 'names or IDs')
    .action(action(io, (ctx, refs: string[]) => runWait(ctx, refs)));
}
