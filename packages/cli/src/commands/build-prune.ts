import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { collectGarbage, openStore } from '@strata/image-store';
import { openLayerCache } from '@strata/layer-cache';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';
import { humanSize } from '../table';

/** `24h`, `30m`, `90s`, `2h30m` → milliseconds. */
function parseDuration(s: string): number {
  const re = /(\d+(?:\.\d+)?)(h|m|s|ms)/g;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * (m[2] === 'h' ? 3_600_000 : m[2] === 'm' ? 60_000 : m[2] === 's' ? 1000 : 1);
    consumed += m[0].length;
  }
  if (consumed !== s.length || s.length === 0) throw new StrataError('USAGE', `invalid duration ${JSON.stringify(s)} (want e.g. 24h, 30m)`);
  return total;
}

export async function run(ctx: CommandContext, opts: { keepDuration?: string }): Promise<CommandResult> {
  const store = await openStore(ctx.globals.root);
  const cache = openLayerCache(store.blobs);
  const olderThan = opts.keepDuration ? new Date(ctx.now().getTime() - parseDuration(opts.keepDuration)) : undefined;
  const r = await cache.prune({ olderThan });
  // What builds remember of context directories (content hashes by stat data, directory
  // listings): all of it goes with the rest of the build cache; the next build hashes again.
  if (olderThan === undefined) await rm(join(ctx.globals.root, 'context-cache'), { recursive: true, force: true });
  // Layers that only the cache kept are now unreachable: free them now, as `docker builder prune` does.
  const gc = await collectGarbage(store);
  if (ctx.globals.format === 'json') return { kind: 'json', value: { records: r.removed, reclaimedBytes: gc.bytes } };
  return { kind: 'text', text: `removed ${r.removed} cache record(s)\nTotal reclaimed space: ${humanSize(gc.bytes)}` };
}

export function register(build: Command, io: Io): void {
  build
    .command('prune')
    .description('remove build cache records (and the layers only they kept); without --keep-duration also the context caches')
    .option('--keep-duration <duration>', 'keep records used within this duration (e.g. 24h)')
    .action(action(io, (ctx, opts: { keepDuration?: string }) => run(ctx, opts)));
}
