import type { Command } from 'commander';
import { openStore } from '@strata/image-store';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';
import { pauseHook } from '../test-hooks';

export async function run(ctx: CommandContext, src: string, dst: string): Promise<CommandResult> {
  const store = await openStore(ctx.globals.root, { checkpoint: pauseHook(ctx.io.env) });
  await store.tag(src, dst);
  return { kind: 'none' };
}

export function register(image: Command, io: Io): void {
  image
    .command('tag')
    .description('create a tag TARGET that refers to SOURCE (a tag, ID or ID prefix)')
    .argument('<source>', 'source image')
    .argument('<target>', 'new tag')
    .action(action(io, (ctx, src: string, dst: string) => run(ctx, src, dst)));
}
