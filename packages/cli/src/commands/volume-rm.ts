import type { Command } from 'commander';
import { StrataError, isStrataError } from '@strata/errors';
import { containerRunning, reconcileVolumeUsers } from '@strata/container';
import { removeVolume } from '@strata/volume';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';

/**
 * `volume rm`: each name; a volume containers use is refused unless -f, and one a running
 * container uses is refused even then. Every name is tried; the first failure is the error.
 */
export async function run(ctx: CommandContext, names: string[], o: { force?: boolean }): Promise<CommandResult> {
  const root = ctx.globals.root;
  reconcileVolumeUsers(root);
  const out: string[] = [];
  let failure: StrataError | undefined;
  for (const n of names) {
    try {
      removeVolume(root, n, { force: o.force, isRunning: (id) => containerRunning(root, id) });
      out.push(n);
    } catch (err) {
      // Docker's -f: a volume that is not there is not an error.
      if (o.force && isStrataError(err, 'NOT_FOUND')) continue;
      if (!(err instanceof StrataError)) throw err;
      failure ??= err;
    }
  }
  if (failure) {
    if (out.length) ctx.io.stdout.write(`${out.join('\n')}\n`);
    throw failure;
  }
  return { kind: 'text', text: out.join('\n') };
}

export function register(volume: Command, io: Io): void {
  volume
    .command('rm')
    .alias('remove')
    .description('remove volumes (refused while containers use them, unless -f; never under a running one)')
    .argument('<name...>', 'volume names')
    .option('-f, --force', 'remove a volume stopped containers use; a missing name is no error')
    .action(action(io, (ctx, names: string[], o: { force?: boolean }) => run(ctx, names, o)));
}
