// `strata system df`: Docker's table (TYPE, TOTAL, ACTIVE, SIZE, RECLAIMABLE) and, with
// `--format json`, one object per type with Docker's keys and string values.
import type { Command } from 'commander';
import { containersUsage, imagesInUse } from '@strata/container';
import { diskUsage, imagesUsage, openStore } from '@strata/image-store';
import { volumesUsage } from '@strata/volume';
import { humanSize, tabwrite } from '@strata/inspect';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';

/** Docker's formatter: units.HumanSize (4 significant digits), and "(NN%)" where it prints one. */
const size = (n: number) => humanSize(n, 4);
const withPercent = (reclaimable: number, total: number) => (total > 0 ? `${size(reclaimable)} (${Math.trunc((reclaimable * 100) / total)}%)` : size(reclaimable));

export async function run(ctx: CommandContext): Promise<CommandResult> {
  const store = await openStore(ctx.globals.root);
  const images = await imagesUsage(store, { usedBy: imagesInUse(store.root) });
  const du = await diskUsage(store);
  // Containers: running ones are active; a container's size is its writable layer's (SizeRw).
  const containers = containersUsage(store.root);
  const volumes = volumesUsage(store.root);
  const cache = du.find((r) => r.kind === 'build-cache') ?? { count: 0, bytes: 0 };
  const records = [
    { Type: 'Images', TotalCount: String(images.totalCount), Active: String(images.active), Size: size(images.size), Reclaimable: withPercent(images.reclaimable, images.size) },
    { Type: 'Containers', TotalCount: String(containers.total), Active: String(containers.active), Size: size(containers.size), Reclaimable: withPercent(containers.reclaimable, containers.size) },
    { Type: 'Local Volumes', TotalCount: String(volumes.total), Active: String(volumes.active), Size: size(volumes.size), Reclaimable: withPercent(volumes.reclaimable, volumes.size) },
    { Type: 'Build Cache', TotalCount: String(cache.count), Active: '0', Size: size(cache.bytes), Reclaimable: size(cache.bytes) },
  ];
  if (ctx.globals.format === 'json') {
    // Docker's `--format json`: keys sorted, as Go marshals its formatter's map.
    return { kind: 'records', records: records.map((r) => ({ Active: r.Active, Reclaimable: r.Reclaimable, Size: r.Size, TotalCount: r.TotalCount, Type: r.Type })) };
  }
  return {
    kind: 'text',
    text: `${tabwrite([['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'], ...records.map((r) => [r.Type, r.TotalCount, r.Active, r.Size, r.Reclaimable])].map((r) => r.join('\t')).join('\n'))}\n`,
  };
}

export function register(system: Command, io: Io): void {
  system
    .command('df')
    .description('disk usage by type, as `docker system df` (images, containers, volumes, build cache)')
    .action(action(io, (ctx) => run(ctx)));
}
