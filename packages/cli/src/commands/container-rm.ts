import type { Command } from 'commander';
import { removeContainer } from '@strata/container';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';
import { pauseHook } from '../test-hooks';

export async function run(ctx: CommandContext, refs: string[], o: { force?: boolean; volumes?: boolean }): Promise<CommandResult> {
  const out: string[] = [];
  for (const ref of refs) {
    await removeContainer(ctx.globals.root, ref, { ...o, checkpoint: pauseHook(ctx.io.env) });
    out.push(ref);
  }
  return { kind: 'text', text: out.join('\n') };
}

export function register(container: Command, io: Io): void {
  container
    .command('rm')
    .description('remove containers, their writable layers and volume references')
    .argument('<container...>', 'names or IDs')
    .option('-f, --force', 'kill a running container first')
    // -v here is this verb's, as Docker's (program.ts hands it over): the global one is --verbose.
    .option('-v, --volumes', 'remove its anonymous volumes too (named ones stay)')
    .action(action(io, (ctx, refs: string[], o: { force?: boolean; volumes?: boolean }) => run(ctx, refs, o)));
}
