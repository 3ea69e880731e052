import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { formatReference, parseReference, withDefaultTag } from '@strata/oci';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';
import { pauseHook } from '../test-hooks';
import { parseBool, progressMode, registriesFor, storeEnd, transferPrinter } from './registry-lib';

export interface PullFlags {
  platform?: string;
  allPlatforms?: boolean;
  progress?: string;
  tlsVerify?: string;
}

/** `docker://host/repo:tag` and `host/repo:tag` name the same image here. */
export function registryReference(s: string) {
  return parseReference(s.replace(/^docker:\/\//, ''));
}

export async function run(ctx: CommandContext, refArg: string, flags: PullFlags): Promise<CommandResult> {
  const { parsePlatformSpec, pullImage } = await import('@strata/registry');
  const reference = registryReference(refArg);
  if (flags.allPlatforms && flags.platform) throw new StrataError('USAGE', '--platform and --all-platforms exclude each other');
  const platform = flags.platform ? parsePlatformSpec(flags.platform) : undefined;
  const printer = transferPrinter(ctx, progressMode(ctx, flags.progress));
  const registries = await registriesFor(ctx, parseBool(flags.tlsVerify, '--tls-verify'));
  const { store, distribution } = await storeEnd(ctx);
  try {
    const r = await pullImage({
      registries,
      reference,
      root: store.root,
      openStore: async () => store,
      distribution,
      platform,
      allPlatforms: flags.allPlatforms,
      progress: printer.onEvent,
      checkpoint: pauseHook(ctx.io.env),
    });
    printer.finish();
    const name = reference.digest ? r.repoDigest : formatReference(withDefaultTag(reference));
    if (ctx.globals.format === 'json') return { kind: 'records', records: [{ reference: name, id: r.id, digest: r.digest, tags: r.tags, layers: r.layers, downloaded: r.downloaded }] };
    return { kind: 'text', text: name };
  } finally {
    printer.finish();
    await registries.close();
  }
}

export function register(parent: Command, io: Io, name = 'pull'): void {
  parent
    .command(name)
    .description('pull an image from a registry into the store (Docker Hub names as docker pull)')
    .argument('<reference>', 'NAME[:TAG|@DIGEST], e.g. localhost:5000/app:1 or busybox')
    .option('--platform <os/arch[/variant]>', 'the image to take from a multi-platform index (default linux/amd64)')
    .option('--all-platforms', 'pull every platform of an index (the tag names --platform\'s)')
    .option('--progress <mode>', 'auto, tty, plain or json (on stderr)', 'auto')
    .option('--tls-verify <bool>', 'false: accept any certificate and plain http (insecure)')
    .action(action(io, (ctx, ref: string, flags: PullFlags) => run(ctx, ref, flags)));
}
