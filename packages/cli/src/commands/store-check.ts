import type { Command } from 'commander';
import { checkStore, openStore } from '@strata/image-store';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';
import { humanSize } from '../table';

export async function run(ctx: CommandContext): Promise<CommandResult> {
  // Containers and builds killed mid-run leave mounts, bundles and temp snapshots: clean them first.
  await (await import('@strata/container')).recover(ctx.globals.root);
  const store = await openStore(ctx.globals.root);
  const r = await checkStore(store);
  ctx.log(`checked ${r.blobs} blobs (${humanSize(r.bytes)}) and ${r.images} index entries: ${r.problems.length ? `${r.problems.length} problem(s)` : 'ok'}`);
  if (r.problems.length === 0) return { kind: 'none' };
  return {
    kind: 'records',
    records: r.problems.map((p) => ({ object: p.object, digest: p.digest ?? '', ref: p.ref ?? '', problem: p.problem })),
    columns: [
      { header: 'OBJECT', field: 'object' },
      { header: 'DIGEST', field: 'digest' },
      { header: 'REF', field: 'ref' },
      { header: 'PROBLEM', field: 'problem' },
    ],
    quietField: 'digest',
    exitCode: r.problems.length ? 1 : 0,
  };
}

export function register(store: Command, io: Io): void {
  store
    .command('check')
    .description('re-hash every blob and validate every reachable manifest and config (exit 1 on problems)')
    .action(action(io, (ctx) => run(ctx)));
}
