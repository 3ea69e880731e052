import type { Command } from 'commander';
import { collectGarbage, openStore } from '@strata/image-store';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';
import { pauseHook } from '../test-hooks';
import { humanSize } from '../table';

export async function run(ctx: CommandContext, opts: { dryRun?: boolean }): Promise<CommandResult> {
  // Containers and builds killed mid-run leave mounts, bundles and temp snapshots: clean them first.
  await (await import('@strata/container')).recover(ctx.globals.root);
  const store = await openStore(ctx.globals.root, { checkpoint: pauseHook(ctx.io.env) });
  const r = await collectGarbage(store, { dryRun: opts.dryRun, tmp: true });
  if (ctx.globals.format === 'json') {
    return { kind: 'json', value: { blobs: r.blobs, bytes: r.bytes, tmpFiles: r.tmpFiles, tmpBytes: r.tmpBytes, staleLock: r.staleLock, distributionFiles: r.distributionFiles } };
  }
  for (const d of r.blobs) ctx.debug(`${opts.dryRun ? 'would delete' : 'deleted'} ${d}`);
  const verb = opts.dryRun ? 'would remove' : 'removed';
  const parts = [`${verb} ${r.blobs.length} unreachable blob(s) (${humanSize(r.bytes)})`];
  if (!opts.dryRun) parts.push(`${r.tmpFiles} temp file(s) (${humanSize(r.tmpBytes)})`);
  if (r.distributionFiles) parts.push(`${r.distributionFiles} distribution record(s)`);
  if (r.staleLock) parts.push('a stale lock');
  return { kind: 'text', text: parts.join(', ') };
}

export function register(store: Command, io: Io): void {
  store
    .command('gc')
    .description('remove unreachable blobs, their distribution records, temp files of dead processes and a stale lock')
    .option('--dry-run', 'only report what would be removed')
    .action(action(io, (ctx, opts: { dryRun?: boolean }) => run(ctx, opts)));
}
