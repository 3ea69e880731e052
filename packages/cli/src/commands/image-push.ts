import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { formatReference, withDefaultTag } from '@strata/oci';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';
import { pauseHook } from '../test-hooks';
import { registryReference } from './image-pull';
import { parseBool, progressMode, registriesFor, storeEnd, transferPrinter } from './registry-lib';

export interface PushFlags {
  compress?: string;
  chunkSize?: string;
  progress?: string;
  tlsVerify?: string;
}

/** `--chunk-size 5M` → bytes. */
export function parseSize(s: string, flag: string): number {
  const m = /^(\d+)([kmg]i?b?)?$/i.exec(s.trim());
  if (!m) throw new StrataError('USAGE', `${flag} takes a size such as 5242880, 512k or 5M, not ${JSON.stringify(s)}`);
  const unit = (m[2] ?? '').toLowerCase()[0];
  const n = Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1);
  if (n < 1) throw new StrataError('USAGE', `${flag} must be at least 1 byte`);
  return n;
}

export async function run(ctx: CommandContext, refArg: string, dest: string | undefined, flags: PushFlags): Promise<CommandResult> {
  if (flags.compress !== undefined && flags.compress !== 'gzip' && flags.compress !== 'zstd') {
    throw new StrataError('USAGE', `--compress must be gzip or zstd, not ${JSON.stringify(flags.compress)}`);
  }
  const chunkSize = flags.chunkSize !== undefined ? parseSize(flags.chunkSize, '--chunk-size') : undefined;
  const reference = withDefaultTag(registryReference(dest ?? refArg));
  if (reference.digest) throw new StrataError('USAGE', `cannot push to a digest (${dest ?? refArg}): name a tag`);
  const { store, distribution } = await storeEnd(ctx);
  const stored = await store.useImage(refArg.replace(/^docker:\/\//, ''));
  const printer = transferPrinter(ctx, progressMode(ctx, flags.progress));
  const registries = await registriesFor(ctx, parseBool(flags.tlsVerify, '--tls-verify'));
  const { pushImage } = await import('@strata/registry');
  try {
    const r = await pushImage({
      registries,
      reference,
      image: stored.image,
      distribution,
      compress: flags.compress as 'gzip' | 'zstd' | undefined,
      chunkSize,
      progress: printer.onEvent,
      checkpoint: pauseHook(ctx.io.env),
    });
    printer.finish();
    const name = formatReference(reference);
    if (ctx.globals.format === 'json') {
      return { kind: 'records', records: [{ reference: name, digest: r.digest, uploaded: r.uploaded, uploadedBytes: r.uploadedBytes, mounted: r.mounted, skipped: r.skipped }] };
    }
    return { kind: 'text', text: ctx.globals.quiet ? r.digest : `${name}@${r.digest}` };
  } finally {
    printer.finish();
    await registries.close();
  }
}

export function register(parent: Command, io: Io, name = 'push'): void {
  parent
    .command(name)
    .description('push an image from the store to a registry (only the layers it lacks)')
    .argument('<reference>', 'the image to push: its tag names the destination, as docker push')
    .argument('[destination]', 'push to another name instead (REGISTRY/REPO[:TAG])')
    .option('--compress <gzip|zstd>', 'compression for layers the registry has in no form yet (default gzip)')
    .option('--chunk-size <bytes>', 'upload in PATCH chunks of this size (default: one streamed request per layer)')
    .option('--progress <mode>', 'auto, tty, plain or json (on stderr)', 'auto')
    .option('--tls-verify <bool>', 'false: accept any certificate and plain http (insecure)')
    .action(action(io, (ctx, ref: string, dest: string | undefined, flags: PushFlags) => run(ctx, ref, dest, flags)));
}
