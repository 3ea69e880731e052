import type { Command } from 'commander';
import { commitContainer } from '@strata/container';
import { action, collect, type CommandContext, type CommandResult, type Io } from '../runner';
import { pauseHook } from '../test-hooks';

export interface CommitFlags {
  change: string[];
  message?: string;
  author?: string;
}

export async function run(ctx: CommandContext, ref: string, target: string | undefined, o: CommitFlags): Promise<CommandResult> {
  const id = await commitContainer(ctx.globals.root, ref, { tag: target, change: o.change, message: o.message, author: o.author, now: ctx.now(), checkpoint: pauseHook(ctx.io.env) });
  return { kind: 'text', text: id };
}

export function register(container: Command, io: Io): void {
  container
    .command('commit')
    .description("create an image from a container's changes")
    .argument('<container>', 'name or ID')
    .argument('[reference]', 'name:tag for the new image')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL (repeatable)', collect, [])
    .option('-m, --message <text>', 'commit message')
    .option('-a, --author <name>', 'author (e.g. "Jane <jane@example.com>")')
    .action(action(io, (ctx, ref: string, target: string | undefined, o: CommitFlags) => run(ctx, ref, target, o)));
}
