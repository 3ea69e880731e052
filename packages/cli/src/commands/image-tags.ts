import type { Command } from 'commander';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';
import { registryReference } from './image-pull';
import { parseBool, registriesFor } from './registry-lib';

export async function runTags(ctx: CommandContext, ref: string, flags: { tlsVerify?: string }): Promise<CommandResult> {
  const registries = await registriesFor(ctx, parseBool(flags.tlsVerify, '--tls-verify'));
  const { listTags } = await import('@strata/registry');
  try {
    const tags = await listTags(registries, registryReference(ref));
    if (ctx.globals.format === 'json') return { kind: 'records', records: tags.map((tag) => ({ tag })) };
    return { kind: 'text', text: tags.join('\n') };
  } finally {
    await registries.close();
  }
}

export async function runDigest(ctx: CommandContext, ref: string, flags: { tlsVerify?: string }): Promise<CommandResult> {
  const registries = await registriesFor(ctx, parseBool(flags.tlsVerify, '--tls-verify'));
  const { remoteDigest } = await import('@strata/registry');
  try {
    return { kind: 'text', text: await remoteDigest(registries, registryReference(ref)) };
  } finally {
    await registries.close();
  }
}

export function register(image: Command, io: Io): void {
  image
    .command('tags')
    .description('list the tags of a repository in a registry')
    .argument('<repository>', 'docker://HOST/REPO (or HOST/REPO)')
    .option('--tls-verify <bool>', 'false: accept any certificate and plain http (insecure)')
    .action(action(io, (ctx, ref: string, flags: { tlsVerify?: string }) => runTags(ctx, ref, flags)));
  image
    .command('digest')
    .description('the manifest digest a registry reference resolves to (an index\'s for multi-platform images)')
    .argument('<reference>', 'docker://HOST/REPO:TAG (or HOST/REPO:TAG)')
    .option('--tls-verify <bool>', 'false: accept any certificate and plain http (insecure)')
    .action(action(io, (ctx, ref: string, flags: { tlsVerify?: string }) => runDigest(ctx, ref, flags)));
}
