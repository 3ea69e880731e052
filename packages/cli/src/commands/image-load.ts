import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { familiarReference, parseReference } from '@strata/oci';
import { loadImages, parsePlatform } from '@strata/image';
import { openStore } from '@strata/image-store';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';
import { pauseHook } from '../test-hooks';

export interface LoadOptions {
  input?: string;
  platform?: string;
}

export async function run(ctx: CommandContext, opts: LoadOptions): Promise<CommandResult> {
  const fromStdin = ctx.isStd(opts.input);
  if (fromStdin && (ctx.io.stdin as NodeJS.ReadStream).isTTY) {
    throw new StrataError('USAGE', 'requested load from stdin, but stdin is a terminal', { hint: 'use -i FILE or pipe an archive in: docker save IMAGE | strata image load' });
  }
  const root = ctx.globals.root;
  const loaded = await loadImages({
    root,
    openStore: () => openStore(root, { checkpoint: pauseHook(ctx.io.env) }),
    platform: opts.platform ? parsePlatform(opts.platform) : undefined,
    source: fromStdin ? { stream: ctx.io.stdin as AsyncIterable<Uint8Array>, name: 'stdin' } : { path: opts.input! },
    checkpoint: pauseHook(ctx.io.env),
  });
  if (ctx.globals.format === 'json') {
    return { kind: 'records', records: loaded.map((l) => ({ id: l.id, tags: l.tags, layers: l.layers, format: l.format })) };
  }
  if (ctx.globals.quiet) return { kind: 'text', text: loaded.map((l) => l.id).join('\n') };
  // Docker's wording, so scripts that grep `docker load` output keep working.
  const lines = loaded.flatMap((l) => (l.tags.length ? l.tags.map((t) => `Loaded image: ${familiarReference(parseReference(t))}`) : [`Loaded image ID: ${l.id}`]));
  return { kind: 'text', text: lines.join('\n') };
}

export function register(image: Command, io: Io): void {
  image
    .command('load')
    .description('load images from a docker-archive (docker save, any version) or an OCI layout, tar or directory')
    .option('-i, --input <file>', 'read from FILE (a tar, possibly compressed, or an OCI layout directory); default stdin')
    .option('--platform <os/arch>', 'the image to take from multi-platform OCI indexes (default linux/amd64)')
    .action(action(io, (ctx, opts: LoadOptions) => run(ctx, opts)));
}
