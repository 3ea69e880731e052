import type { Nouns } from '../program';
import { action, collect, type Io } from '../runner';
import type { ContextLsOptions } from './context-ls';
import type { ContextCheckOptions } from './context-check';
import type { ContextDigestOptions } from './context-digest';

// Each command's module is loaded when it runs: `context ls` then needs neither node:crypto nor
// the digest code (a few ms of a start that is most of its run time).


export function registerContextCommands(nouns: Nouns, io: Io): void {
  nouns.context
    .command('ls')
    .description('every path a build would see with `COPY . /dest`, after .dockerignore (sorted, directories end in /)')
    .argument('[dir]', 'build context directory', '.')
    .option('-f, --file <dockerfile>', 'the Dockerfile (its <Dockerfile>.dockerignore wins over <dir>/.dockerignore)')
    .option('--ignore-file <file>', 'use this ignore file instead')
    .option('--summary', 'counts and bytes only')
    .option('--legacy', 'match like Docker 20.10 (parent directories only at the pattern depth)')
    .action(action(io, async (ctx, dir: string, opts: ContextLsOptions) => (await import('./context-ls')).runContextLs(ctx, dir, opts)));

  nouns.context
    .command('check')
    .description('whether each path is in the build context, and which .dockerignore pattern decided (exit 1 if any is excluded)')
    .argument('<paths...>', 'paths relative to the context')
    .option('-C, --context <dir>', 'build context directory', '.')
    .option('-f, --file <dockerfile>', 'the Dockerfile (its <Dockerfile>.dockerignore wins)')
    .option('--ignore-file <file>', 'use this ignore file instead')
    .option('--legacy', 'match like Docker 20.10')
    .action(action(io, async (ctx, paths: string[], opts: ContextCheckOptions) => (await import('./context-check')).runContextCheck(ctx, paths, opts)));

  nouns.context
    .command('digest')
    .description('content digest of the context after .dockerignore (what the build cache keys on); unchanged files are not re-read (stat cache in <root>/context-cache)')
    .argument('[dir]', 'build context directory', '.')
    .option('-f, --file <dockerfile>', 'the Dockerfile (its <Dockerfile>.dockerignore wins)')
    .option('--ignore-file <file>', 'use this ignore file instead')
    .option('--path <subdir>', 'digest of this subtree instead of the whole context (repeatable)', collect, [])
    .option('--no-cache', 'read every file (do not use or update the stat cache)')
    .action(action(io, async (ctx, dir: string, opts: ContextDigestOptions) => (await import('./context-digest')).runContextDigest(ctx, dir, opts)));
}
