import type { Command } from 'commander';
import { containerLogs, type LogsOptions } from '@strata/container';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';

/** Docker's `logs`: both streams in the order written, stdout to stdout and stderr to stderr. */
export async function run(ctx: CommandContext, ref: string, o: LogsOptions): Promise<CommandResult> {
  await containerLogs(ctx.globals.root, ref, o, { stdout: ctx.io.stdout, stderr: ctx.io.stderr });
  return { kind: 'none' };
}

export function register(container: Command, io: Io): void {
  container
    .command('logs')
    .description("print a container's output (stdout on stdout, stderr on stderr, in the order written)")
    .argument('<container>', 'name or ID')
    .option('-f, --follow', 'keep printing while the container runs')
    .option('-t, --timestamps', 'prefix each line with the time it was written')
    .option('-n, --tail <n>', 'only the last N lines (default all)')
    .action(action(io, (ctx, ref: string, o: LogsOptions) => run(ctx, ref, o)));
}
