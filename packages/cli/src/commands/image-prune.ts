import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { openStore, pruneImages } from '@strata/image-store';
import { action, collect, type CommandContext, type CommandResult, type Io } from '../runner';
import { pauseHook } from '../test-hooks';
import { humanSize } from '../table';
import { eventRecord } from './image-rm';

export interface PruneOptions {
  all?: boolean;
  filter?: string[];
  dryRun?: boolean;
  force?: boolean;
}

async function confirm(ctx: CommandContext, what: string): Promise<boolean> {
  ctx.io.stderr.write(`WARNING! This will remove ${what}.\nAre you sure you want to continue? [y/N] `);
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: ctx.io.stdin });
  const line = await new Promise<string>((r) => rl.once('line', r).once('close', () => r('')));
  rl.close();
  return /^y(es)?$/i.test(line.trim());
}

export async function run(ctx: CommandContext, opts: PruneOptions): Promise<CommandResult> {
  const store = await openStore(ctx.globals.root, { checkpoint: pauseHook(ctx.io.env) });
  // Like Docker, ask first — but only a person at a terminal; scripts never block on a prompt.
  if (!opts.force && !opts.dryRun && (ctx.io.stdin as NodeJS.ReadStream).isTTY) {
    const ok = await confirm(ctx, opts.all ? 'all images without at least one container associated to them' : 'all dangling images');
    if (!ok) throw new StrataError('INTERRUPTED', 'prune cancelled');
  }
  const usedBy = (await import('@strata/container')).imagesInUse(ctx.globals.root);
  const r = await pruneImages(store, { all: opts.all, filters: opts.filter, dryRun: opts.dryRun, now: ctx.now(), usedBy });
  const exitCode = opts.dryRun && r.images.length ? 1 : 0;
  if (ctx.globals.format === 'json') {
    const records = opts.dryRun
      ? r.images.map((i) => ({ ID: i.id, Tags: i.tags, Size: i.size }))
      : [...r.events.map(eventRecord), { SpaceReclaimed: r.reclaimedBytes }];
    return { kind: 'records', records, exitCode };
  }
  if (ctx.globals.quiet) return { kind: 'text', text: [...new Set(r.images.map((i) => i.id))].join('\n'), exitCode };
  const lines: string[] = [];
  if (opts.dryRun) {
    if (r.images.length) lines.push('Would delete images:', ...r.events.map((e) => ('untagged' in e ? `untagged: ${e.untagged}` : `deleted: ${e.deleted}`)), '');
    lines.push(`Total reclaimable space: ${humanSize(r.reclaimedBytes)}`);
  } else {
    if (r.events.length) lines.push('Deleted Images:', ...r.events.map((e) => ('untagged' in e ? `untagged: ${e.untagged}` : `deleted: ${e.deleted}`)), '');
    lines.push(`Total reclaimed space: ${humanSize(r.reclaimedBytes)}`);
  }
  return { kind: 'text', text: lines.join('\n'), exitCode };
}

export function register(image: Command, io: Io): void {
  image
    .command('prune')
    .description('remove dangling images (with -a: every image no container uses) and reclaim their blobs')
    .option('-a, --all', 'remove all images not used by a container, not only dangling ones')
    .option('--filter <filter>', 'until=TIME|DURATION, label=KEY[=VALUE], label!=KEY[=VALUE] (repeatable)', collect, [])
    .option('--dry-run', 'only list what would be removed (exit 1 when there is something)')
    .option('-f, --force', 'do not prompt for confirmation (strata only prompts at a terminal)')
    .action(action(io, (ctx, opts: PruneOptions) => run(ctx, opts)));
}
