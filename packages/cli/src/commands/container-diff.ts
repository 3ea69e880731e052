import type { Command } from 'commander';
import { containerChanges } from '@strata/container';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';

const LETTER = { add: 'A', modify: 'C', delete: 'D' } as const;

export async function run(ctx: CommandContext, ref: string): Promise<CommandResult> {
  const changes = containerChanges(ctx.globals.root, ref);
  if (ctx.globals.format === 'json') return { kind: 'records', records: changes.map((c) => ({ Kind: LETTER[c.kind], Path: c.path })) };
  return { kind: 'text', text: changes.map((c) => `${LETTER[c.kind]} ${c.path}`).join('\n') };
}

export function register(container: Command, io: Io): void {
  container
    .command('diff')
    .description("changes to a container's filesystem: A added, C changed, D deleted (as docker diff)")
    .argument('<container>', 'name or ID')
    .action(action(io, (ctx, ref: string) => run(ctx, ref)));
}
