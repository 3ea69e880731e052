import type { Nouns } from '../program';
import { action, type Io } from '../runner';
import { runContextLs, type ContextLsOptions } from './context-ls';
import { runContextCheck, type ContextCheckOptions } from './context-check';

export function registerContextCommands(nouns: Nouns, io: Io): void {
  nouns.context
    .command('ls')
    .description('every path a build would see with `COPY . /dest`, after .dockerignore (sorted, directories end in /)')
    .argument('[dir]', 'build context directory', '.')
    .option('-f, --file <dockerfile>', 'the Dockerfile (its <Dockerfile>.dockerignore wins over <dir>/.dockerignore)')
    .option('--ignore-file <file>', 'use this ignore file instead')
    .option('--summary', 'counts and bytes only')
    .option('--legacy', 'match like Docker 20.10 (parent directories only at the pattern depth)')
    .action(action(io, (ctx, dir: string, opts: ContextLsOptions) => runContextLs(ctx, dir, opts)));

  nouns.context
    .command('check')
    .description('whether each path is in the build context, and which .dockerignore pattern decided (exit 1 if any is excluded)')
    .argument('<paths...>', 'paths relative to the context')
    .option('-C, --context <dir>', 'build context directory', '.')
    .option('-f, --file <dockerfile>', 'the Dockerfile (its <Dockerfile>.dockerignore wins)')
    .option('--ignore-file <file>', 'use this ignore file instead')
    .option('--legacy', 'match like Docker 20.10')
    .action(action(io, (ctx, paths: string[], opts: ContextCheckOptions) => runContextCheck(ctx, paths, opts)));
}
