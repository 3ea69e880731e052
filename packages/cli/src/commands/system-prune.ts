// `strata system prune`: what `docker system prune` removes from strata's store: dangling images
// (with -a: every image no container uses) and, with -a, the build cache; then the blobs nothing
// references. `--filter until=…|label=…|label!=…` applies to the images. Stopped containers are
// left to `container prune` (the container package owns their records).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { collectGarbage, openStore, pruneImages } from '@strata/image-store';
import { openLayerCache } from '@strata/layer-cache';
import { action, collect, type CommandContext, type CommandResult, type Io } from '../runner';
import { humanSize } from '../table';

export interface SystemPruneOptions {
  all?: boolean;
  filter?: string[];
  force?: boolean;
}

export async function run(ctx: CommandContext, opts: SystemPruneOptions): Promise<CommandResult> {
  const root = ctx.globals.root;
  if (!opts.force && (ctx.io.stdin as NodeJS.ReadStream).isTTY) {
    throw new StrataError('USAGE', 'system prune removes unused images and build cache: pass -f to confirm');
  }
  const store = await openStore(root);
  const usedBy = (await import('@strata/container')).imagesInUse(root);
  const images = await pruneImages(store, { all: opts.all, filters: opts.filter, now: ctx.now(), usedBy });
  let cacheRecords = 0;
  let reclaimed = images.reclaimedBytes;
  if (opts.all) {
    const cache = openLayerCache(store.blobs);
    cacheRecords = (await cache.prune({})).removed;
    await rm(join(root, 'context-cache'), { recursive: true, force: true });
    reclaimed += (await collectGarbage(store)).bytes;
  }
  if (ctx.globals.format === 'json') {
    return { kind: 'records', records: [{ ImagesDeleted: images.events, CacheRecordsDeleted: cacheRecords, SpaceReclaimed: reclaimed }] };
  }
  const lines: string[] = [];
  if (images.events.length) lines.push('Deleted Images:', ...images.events.map((e) => ('untagged' in e ? `untagged: ${e.untagged}` : `deleted: ${e.deleted}`)), '');
  if (cacheRecords) lines.push(`Deleted build cache records: ${cacheRecords}`, '');
  lines.push(`Total reclaimed space: ${humanSize(reclaimed)}`);
  return { kind: 'text', text: lines.join('\n') };
}

export function register(system: Command, io: Io): void {
  system
    .command('prune')
    .description('remove dangling images (-a: all unused images, and the build cache) and the blobs only they used')
    .option('-a, --all', 'remove all unused images, not just dangling ones, and the whole build cache')
    .option('--filter <filter>', 'until=TIME|DURATION, label=KEY[=VALUE], label!=KEY[=VALUE] (images; repeatable)', collect, [])
    .option('-f, --force', 'do not prompt for confirmation')
    .action(action(io, (ctx, opts: SystemPruneOptions) => run(ctx, opts)));
}
