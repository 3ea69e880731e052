import type { Command } from 'commander';
import { getVolume, inspectVolume } from '@strata/volume';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';

export async function run(ctx: CommandContext, names: string[]): Promise<CommandResult> {
  return { kind: 'json', value: names.map((n) => inspectVolume(getVolume(ctx.globals.root, n))) };
}

export function register(volume: Command, io: Io): void {
  volume
    .command('inspect')
    .description("volumes as Docker's JSON (CreatedAt, Driver, Labels, Mountpoint, Name, Options, Scope)")
    .argument('<name...>', 'volume names')
    .action(action(io, (ctx, names: string[]) => run(ctx, names)));
}
