import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { containerDir, findContainer } from '@strata/cow';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';

export async function run(ctx: CommandContext, ref: string): Promise<CommandResult> {
  const rec = findContainer(ctx.globals.root, ref);
  const dir = containerDir(ctx.globals.root, rec.id);
  // Output is stored per stream (no interleaving record): stdout first, then stderr.
  const err = join(dir, 'stderr.log');
  if (existsSync(err)) await pipeline(createReadStream(err), ctx.io.stderr, { end: false });
  const out = join(dir, 'stdout.log');
  if (!existsSync(out)) return { kind: 'none' };
  return { kind: 'bytes', stream: createReadStream(out) };
}

export function register(container: Command, io: Io): void {
  container
    .command('logs')
    .description("print a container's output (stdout on stdout, stderr on stderr)")
    .argument('<container>', 'name or ID')
    .action(action(io, (ctx, ref: string) => run(ctx, ref)));
}
