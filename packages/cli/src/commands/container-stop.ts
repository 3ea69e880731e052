import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { findContainer, recoverContainers } from '@strata/cow';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';
import { signalContainer, stopContainer, waitStopped } from './container-lib';

export async function runStop(ctx: CommandContext, refs: string[], o: { time?: string }): Promise<CommandResult> {
  const root = ctx.globals.root;
  await recoverContainers(root);
  const t = o.time === undefined ? 10 : Number(o.time);
  if (!Number.isInteger(t) || t < 0) throw new StrataError('USAGE', `--time must be a whole number of seconds, not "${o.time}"`);
  for (const ref of refs) await stopContainer(root, findContainer(root, ref), t);
  return { kind: 'text', text: refs.join('\n') };
}

export async function runKill(ctx: CommandContext, refs: string[], o: { signal?: string }): Promise<CommandResult> {
  const root = ctx.globals.root;
  await recoverContainers(root);
  const sig = (o.signal ?? 'KILL').replace(/^SIG/i, '').toUpperCase();
  if (!/^([A-Z0-9+-]+)$/.test(sig)) throw new StrataError('USAGE', `invalid signal ${o.signal}`);
  for (const ref of refs) {
    const rec = findContainer(root, ref);
    await signalContainer(root, rec, sig);
    if (sig === 'KILL' || sig === '9') await waitStopped(root, rec.id, 10_000);
  }
  return { kind: 'text', text: refs.join('\n') };
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
}
