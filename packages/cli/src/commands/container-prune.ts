import type { Command } from 'commander';
import { chainIds, type Digest } from '@strata/oci';
import { listContainers, pruneSnapshots, recoverContainers, removeContainerDir } from '@strata/cow';
import { openStore } from '@strata/image-store';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';

/**
 * Docker's `container prune`: remove every container that is not running. Then snapshots that
 * no container uses and that belong to no stored image (left by `image rm`) are removed too;
 * snapshots of stored images stay, so the next run does not unpack again.
 */
export async function run(ctx: CommandContext, o: { snapshots?: boolean }): Promise<CommandResult> {
  const root = ctx.globals.root;
  await recoverContainers(root);
  const removed: string[] = [];
  for (const c of listContainers(root)) {
    if (c.state === 'running') continue;
    removeContainerDir(root, c.id);
    removed.push(c.id);
  }
  const keep = new Set<Digest>();
  if (!o.snapshots) {
    const store = await openStore(root);
    for (const img of await store.images()) {
      for (const c of chainIds((await img.image.config()).rootfs.diff_ids as Digest[])) keep.add(c);
    }
  }
  const snaps = pruneSnapshots(root, { keep });
  if (ctx.globals.format === 'json') return { kind: 'records', records: [{ containers: removed, snapshots: snaps }] };
  const lines = removed.length ? ['Deleted Containers:', ...removed, ''] : [];
  lines.push(`Removed ${snaps.length} unused snapshot(s)`);
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
