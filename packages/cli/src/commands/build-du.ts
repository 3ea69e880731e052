import type { Command } from 'commander';
import { openStore } from '@strata/image-store';
import { openLayerCache } from '@strata/layer-cache';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';
import { humanSize } from '../table';

export async function run(ctx: CommandContext, opts: { verbose?: boolean }): Promise<CommandResult> {
  const store = await openStore(ctx.globals.root);
  const u = await openLayerCache(store.blobs).usage();
  const records: Array<Record<string, unknown>> = u.entries.map((e) => ({
    id: e.key.slice(0, 12),
    key: e.key,
    size: humanSize(e.size),
    bytes: e.size,
    created: e.created,
    lastUsed: e.lastUsed ?? '',
    description: e.description ?? '',
    layer: e.digest ?? '',
  }));
  if (ctx.globals.format !== 'json') records.push({ id: 'Total:', size: humanSize(u.bytes), bytes: u.bytes, created: '', lastUsed: '', description: `${u.records} record(s)` });
  void opts;
  return {
    kind: 'records',
    records,
    quietField: 'key',
    columns: [
      { header: 'ID', field: 'id' },
      { header: 'SIZE', field: 'size' },
      { header: 'LAST USED', field: 'lastUsed' },
      { header: 'DESCRIPTION', field: 'description' },
    ],
  };
}

export function register(build: Command, io: Io): void {
  build
    .command('du')
    .description('build cache records and the bytes their layers use')
    .action(action(io, (ctx, opts: { verbose?: boolean }) => run(ctx, opts)));
}
