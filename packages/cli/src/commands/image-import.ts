import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { normalizeReference } from '@strata/oci';
import { importRootfs } from '@strata/image';
import { openStore } from '@strata/image-store';
import { action, collect, type CommandContext, type CommandResult, type Io } from '../runner';
import { pauseHook } from '../test-hooks';

export interface ImportOptions {
  change: string[];
  message?: string;
}

export async function run(ctx: CommandContext, file: string, ref: string | undefined, opts: ImportOptions): Promise<CommandResult> {
  const fromStdin = file === '-';
  if (fromStdin && (ctx.io.stdin as NodeJS.ReadStream).isTTY) throw new StrataError('USAGE', 'import from stdin, but stdin is a terminal', { hint: 'tar -C rootfs -c . | strata image import - NAME' });
  const tag = ref === undefined ? undefined : normalizeReference(ref);
  const root = ctx.globals.root;
  const stored = await importRootfs({
    root,
    openStore: () => openStore(root, { checkpoint: pauseHook(ctx.io.env) }),
    source: fromStdin ? { stream: ctx.io.stdin as AsyncIterable<Uint8Array>, name: 'stdin' } : { path: file },
    tag,
    changes: opts.change,
    message: opts.message,
    created: ctx.now().toISOString(),
    checkpoint: pauseHook(ctx.io.env),
  });
  if (ctx.globals.format === 'json') return { kind: 'records', records: [{ id: stored.id, tags: stored.tags }] };
  return { kind: 'text', text: stored.id };
}

export function register(image: Command, io: Io): void {
  image
    .command('import')
    .description('make a one-layer image from a root filesystem tar (like docker import)')
    .argument('<file>', 'the tar (possibly gzip/zstd/xz/bzip2-compressed), or - for stdin')
    .argument('[reference]', 'name:tag for the new image')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL (repeatable)', collect, [])
    .option('-m, --message <text>', 'commit message (history comment; default "Imported from -")')
    .action(action(io, (ctx, file: string, ref: string | undefined, opts: ImportOptions) => run(ctx, file, ref, opts)));
}
