import type { Command } from 'commander';
import { openStore, removeImages, type RemoveEvent } from '@strata/image-store';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';
import { pauseHook } from '../test-hooks';

export interface RmOptions {
  force?: boolean;
}

export function eventRecord(e: RemoveEvent): Record<string, string> {
  return 'untagged' in e ? { Untagged: e.untagged } : { Deleted: e.deleted };
}

export async function run(ctx: CommandContext, refs: string[], opts: RmOptions): Promise<CommandResult> {
  const store = await openStore(ctx.globals.root, { checkpoint: pauseHook(ctx.io.env) });
  // Which containers use which image is the container package's to say (loaded only here).
  const usedBy = (await import('@strata/container')).imagesInUse(ctx.globals.root);
  const r = await removeImages(store, refs, { force: opts.force, usedBy });
  if (r.errors.length === 1 && r.events.length === 0) throw r.errors[0].error;
  for (const e of r.errors) ctx.io.stderr.write(`strata: ${e.error.message}\n`);
  const exitCode = r.errors.length ? 2 : 0;
  if (ctx.globals.format === 'json') return { kind: 'records', records: r.events.map(eventRecord), exitCode };
  const lines = r.events.map((e) => ('untagged' in e ? `Untagged: ${e.untagged}` : `Deleted: ${e.deleted}`));
  return { kind: 'text', text: lines.join('\n'), exitCode };
}

export function register(image: Command, io: Io): void {
  image
    .command('rm')
    .alias('remove')
    .description('untag images and delete those left without a tag (blobs no other image uses are reclaimed)')
    .argument('<ref...>', 'tags, IDs or ID prefixes')
    .option('-f, --force', 'remove by ID across repositories; untag images used by containers (they stay, dangling)')
    .action(action(io, (ctx, refs: string[], opts: RmOptions) => run(ctx, refs, opts)));
}
