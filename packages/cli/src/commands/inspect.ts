import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import type { Nouns } from '../program';
import { action, takeFormat, type Io } from '../runner';
import { badHuman, parseHuman, runImageHistory } from './image-history';
import { runImageInspect } from './image-inspect';
import { register as registerEfficiency } from './image-efficiency';
import { register as registerReport } from './image-report';
import { register as registerBrowse } from './image-browse';


export function registerInspectCommands(nouns: Nouns, io: Io): void {
  nouns.image
    .command('inspect')
    .description('show images as Docker-compatible JSON (or through a Go template)')
    .argument('<ref...>', 'image references or IDs')
    .option('-f, --format <template>', 'Go template, as `docker image inspect --format` (also the global --format)')
    .option('--raw', 'docker://: the manifest bytes exactly as the registry serves them')
    .option('--config', 'docker://: the image config instead (raw bytes with --raw)')
    .option('--no-tags', "docker://: don't list the repository's tags")
    .option('--tls-verify <bool>', 'docker://: false accepts any certificate and plain http (insecure)')
    .action((refs: string[], opts: { format?: string; raw?: boolean; config?: boolean; tags?: boolean; tlsVerify?: string }, cmd: Command) => {
      const format = takeFormat(cmd);
      // `docker://…`: a registry, inspected without pulling (skopeo inspect's output)
      if (refs.some((r) => r.startsWith('docker://'))) {
        return action(io, async (ctx) => (await import('./image-inspect-remote')).runRemoteInspect(ctx, refs, { ...opts, format }))(cmd);
      }
      return action(io, (ctx) => runImageInspect(ctx, refs, { format }))(cmd);
    });

  nouns.image
    .command('history')
    .description('show the history of an image (as `docker history`)')
    .argument('[ref]', 'image reference or ID')
    .option('--no-trunc', "don't truncate output")
    .option('-H, --human [bool]', 'human readable sizes and dates (-H=false for bytes and RFC 3339)')
    .option('-f, --format <format>', "json (JSON Lines), 'table TEMPLATE' or a Go template (also the global --format)")
    .action((refArg: string | undefined, opts: { trunc: boolean; human?: unknown; format?: string }, cmd: Command) => {
      const format = takeFormat(cmd);
      let ref = refArg;
      let human = parseHuman(opts.human);
      // `-H busybox`: commander took the ref as the flag's value.
      if (human === undefined && ref === undefined && typeof opts.human === 'string' && !opts.human.startsWith('=')) {
        ref = opts.human;
        human = true;
      }
      return action(io, async (ctx) => {
        if (human === undefined) throw badHuman(opts.human);
        if (!ref) throw new StrataError('USAGE', '"image history" requires exactly 1 argument');
        return runImageHistory(ctx, ref, { trunc: opts.trunc, human, format });
      })(cmd);
    });

  registerEfficiency(nouns.image, io);
  registerReport(nouns.image, io);
  registerBrowse(nouns.image, io);
}
