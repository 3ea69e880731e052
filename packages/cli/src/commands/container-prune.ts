import type { Command } from 'commander';
import { pruneContainers } from '@strata/container';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';

/**
 * Docker's `container prune`: remove every container that is not running. Then snapshots that
 * no container uses and that belong to no stored image (left by `image rm`) are removed too;
 * snapshots of stored images stay, so the next run does not unpack again.
 */
export async function run(ctx: CommandContext, o: { snapshots?: boolean }): Promise<CommandResult> {
  const r = await pruneContainers(ctx.globals.root, o);
  if (ctx.globals.format === 'json') return { kind: 'records', records: [{ containers: r.containers, snapshots: r.snapshots }] };
  const lines = r.containers.length ? ['Deleted Containers:', ...r.containers, ''] : [];
  lines.push(`Removed ${r.snapshots.length} unused snapshot(s)`);
  return { kind: 'text', text: lines.join('\n') };
}

export function register(container: Command, io: Io): void {
  container
    .command('prune')
    .description('remove all stopped containers and snapshots nothing uses')
    .option('-f, --force', 'do not prompt (strata never prompts; accepted for Docker compatibility)')
    .option('--snapshots', 'also remove snapshots of stored images that no container uses')
    .action(action(io, (ctx, o: { snapshots?: boolean }) => run(ctx, o)));
}
