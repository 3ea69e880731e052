// `strata image inspect docker://…`: skopeo inspect's object, `--raw` manifest bytes, `--config`.
import { StrataError } from '@strata/errors';
import { inspectRemote, rawManifest, remoteConfig } from '@strata/registry';
import type { CommandContext, CommandResult } from '../runner';
import { registryReference } from './image-pull';
import { parseBool, registriesFor } from './registry-lib';

export interface RemoteInspectFlags {
  raw?: boolean;
  config?: boolean;
  /** commander's --no-tags */
  tags?: boolean;
  tlsVerify?: string;
  format?: string;
}

export async function runRemoteInspect(ctx: CommandContext, refs: string[], flags: RemoteInspectFlags): Promise<CommandResult> {
  if (refs.length !== 1) throw new StrataError('USAGE', 'inspect docker://… takes exactly one reference');
  if (flags.format && flags.format !== 'json' && flags.format !== 'table') throw new StrataError('USAGE', '--format templates apply to local images; docker://… prints JSON');
  const reference = registryReference(refs[0]);
  const registries = await registriesFor(ctx, parseBool(flags.tlsVerify, '--tls-verify'));
  try {
    if (flags.config) {
      const bytes = await remoteConfig({ registries, reference });
      if (flags.raw) return { kind: 'bytes', stream: (async function* () { yield bytes; })() };
      return { kind: 'json', value: JSON.parse(bytes.toString('utf8')) };
    }
    if (flags.raw) {
      const bytes = await rawManifest(registries, reference);
      return { kind: 'bytes', stream: (async function* () { yield bytes; })() };
    }
    return { kind: 'json', value: await inspectRemote({ registries, reference, noTags: flags.tags === false }) };
  } finally {
    await registries.close();
  }
}
