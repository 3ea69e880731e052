import type { Command } from 'commander';
import { reconcileVolumeUsers } from '@strata/container';
import { listVolumes, matchVolume, parseVolumeFilters, volumeUsers } from '@strata/volume';
import { action, collect, type CommandContext, type CommandResult, type Io } from '../runner';

export async function run(ctx: CommandContext, o: { filter: string[]; quiet?: boolean }): Promise<CommandResult> {
  const root = ctx.globals.root;
  const filters = parseVolumeFilters(o.filter);
  reconcileVolumeUsers(root);
  const vols = listVolumes(root).filter((v) => matchVolume(v, filters, () => volumeUsers(root, v.name)));
  // `docker volume ls --format '{{json .}}'`: every field a string, as Docker's formatter gives them.
  const records = vols.map((v) => ({
    Driver: 'local',
    Labels: Object.entries(v.record.Labels ?? {}).map(([k, val]) => `${k}=${val}`).join(','),
    Links: 'N/A',
    Mountpoint: v.mountpoint,
    Name: v.name,
    Scope: 'local',
    Size: 'N/A',
  }));
  if (o.quiet || ctx.globals.quiet) return { kind: 'text', text: records.map((r) => r.Name).join('\n') };
  return { kind: 'records', records, columns: [{ header: 'DRIVER', field: 'Driver' }, { header: 'VOLUME NAME', field: 'Name' }] };
}

export function register(volume: Command, io: Io): void {
  volume
    .command('ls')
    .alias('list')
    .description('list volumes')
    .option('-f, --filter <key=value>', 'dangling=true|false, label=KEY[=VALUE], name=SUBSTRING, driver=local (repeatable)', collect, [])
    .action(action(io, (ctx, o: { filter: string[] }) => run(ctx, o)));
}
