import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { findContainer, recoverContainers, removeContainerDir } from '@strata/cow';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';
import { signalContainer, waitStopped } from './container-lib';

export async function run(ctx: CommandContext, refs: string[], o: { force?: boolean }): Promise<CommandResult> {
  const root = ctx.globals.root;
  await recoverContainers(root);
  const out: string[] = [];
  for (const ref of refs) {
    const rec = findContainer(root, ref);
    if (rec.state === 'running') {
      if (!o.force) throw new StrataError('CONFLICT', `cannot remove running container ${rec.name}`, { hint: 'stop it first or use rm -f' });
      await signalContainer(root, rec, 'KILL').catch(() => {});
      await waitStopped(root, rec.id, 10_000);
    }
    removeContainerDir(root, rec.id);
    out.push(ref);
  }
  return { kind: 'text', text: out.join('\n') };
}

export function register(container: Command, io: Io): void {
  container
    .command('rm')
    .description('remove containers and their writable layers')
    .argument('<container...>', 'names or IDs')
    .option('-f, --force', 'kill a running container first')
    .action(action(io, (ctx, refs: string[], o: { force?: boolean }) => run(ctx, refs, o)));
}
