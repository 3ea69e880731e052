import type { Command } from 'commander';
import { reconcileVolumeUsers } from '@strata/container';
import { humanSize } from '@strata/inspect';
import { parseVolumeFilters, pruneVolumes } from '@strata/volume';
import { action, collect, type CommandContext, type CommandResult, type Io } from '../runner';

/** Current Docker's `volume prune`: unused anonymous volumes (named ones too with --all). */
export async function run(ctx: CommandContext, o: { all?: boolean; filter: string[] }): Promise<CommandResult> {
  const root = ctx.globals.root;
  const filters = parseVolumeFilters(o.filter, ['label', 'label!']);
  reconcileVolumeUsers(root);
  const r = pruneVolumes(root, { all: o.all, filters });
  if (ctx.globals.format === 'json') return { kind: 'records', records: [{ VolumesDeleted: r.removed, SpaceReclaimed: r.bytes }] };
  const lines = r.removed.length ? ['Deleted Volumes:', ...r.removed, ''] : [];
  lines.push(`Total reclaimed space: ${humanSize(r.bytes, 4)}`);
  return { kind: 'text', text: lines.join('\n') };
}

export function register(volume: Command, io: Io): void {
  volume
    .command('prune')
    .description('remove volumes no container uses: anonymous ones, and with --all named ones too')
    .option('-a, --all', 'named volumes too (Docker ≥ 23; 20.10 pruned them without it)')
    .option('--filter <key=value>', 'label=KEY[=VALUE], label!=KEY[=VALUE] (repeatable)', collect, [])
    .option('-f, --force', 'do not prompt (strata never prompts)')
    .action(action(io, (ctx, o: { all?: boolean; filter: string[] }) => run(ctx, o)));
}
