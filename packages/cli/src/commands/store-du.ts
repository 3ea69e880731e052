import type { Command } from 'commander';
import { diskUsage, openStore } from '@strata/image-store';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';
import { humanSize } from '../table';

export async function run(ctx: CommandContext): Promise<CommandResult> {
  const store = await openStore(ctx.globals.root);
  const rows = await diskUsage(store);
  const total = rows.reduce((t, r) => ({ count: t.count + r.count, bytes: t.bytes + r.bytes }), { count: 0, bytes: 0 });
  const records = [...rows, { kind: 'total', ...total }].map((r) => ({ kind: r.kind, count: r.count, bytes: r.bytes, size: humanSize(r.bytes) }));
  return {
    kind: 'records',
    records,
    columns: [
      { header: 'KIND', field: 'kind' },
      { header: 'FILES', field: 'count' },
      { header: 'SIZE', field: 'size' },
    ],
  };
}

export function register(store: Command, io: Io): void {
  store
    .command('du')
    .description('disk usage of the store by kind (blobs by role, temp files, snapshots, containers, build cache)')
    .action(action(io, (ctx) => run(ctx)));
}
