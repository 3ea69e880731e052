import type { Nouns } from '../program';
import { action, collect, type Io } from '../runner';
import { runContextLs, type ContextLsOptions } from './context-ls';
import { runContextCheck, type ContextCheckOptions } from './context-check';
import { runContextDigest, type ContextDigestOptions } from './context-digest';


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

  nouns.context
    .command('digest')
    .description('content digest of the context after .dockerignore (what the build cache keys on); unchanged files are not re-read (stat cache in <root>/context-cache)')
    .argument('[dir]', 'build context directory', '.')
    .option('-f, --file <dockerfile>', 'the Dockerfile (its <Dockerfile>.dockerignore wins)')
    .option('--ignore-file <file>', 'use this ignore file instead')
    .option('--path <subdir>', 'digest of this subtree instead of the whole context (repeatable)', collect, [])
    .option('--no-cache', 'read every file (do not use or update the stat cache)')
    .action(action(io, (ctx, dir: string, opts: ContextDigestOptions) => runContextDigest(ctx, dir, opts)));
}
