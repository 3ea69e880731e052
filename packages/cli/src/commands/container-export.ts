import type { Command } from 'commander';
import { exportContainer } from '@strata/container';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';

/** Docker's `export`: the container's merged root filesystem as a tar. */
export async function run(ctx: CommandContext, ref: string, o: { output?: string }): Promise<CommandResult> {
  const toFile = o.output && o.output !== '-' ? o.output : undefined;
  const stream = exportContainer(ctx.globals.root, ref, toFile);
  if (toFile) {
    for await (const _ of stream) void _;
    return { kind: 'none' };
  }
  return { kind: 'bytes', stream };
}

export function register(container: Command, io: Io): void {
  container
    .command('export')
    .description("the container's merged root filesystem as a tar on stdout")
    .argument('<container>', 'name or ID')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(action(io, (ctx, ref: string, o: { output?: string }) => run(ctx, ref, o)));
}
