import { createReadStream } from 'node:fs';
import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { exportVolume, importVolume } from '@strata/volume';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';
import { pauseHook } from '../test-hooks';

/** `volume export NAME`: the volume's files as a tar on stdout (or -o FILE). */
export async function runExport(ctx: CommandContext, name: string, o: { output?: string }): Promise<CommandResult> {
  const stream = exportVolume(ctx.globals.root, name);
  if (!ctx.isStd(o.output)) {
    const { pipeline } = await import('node:stream/promises');
    const { Readable } = await import('node:stream');
    const { createWriteStream } = await import('node:fs');
    await pipeline(Readable.from(stream, { objectMode: false }), createWriteStream(o.output!));
    return { kind: 'none' };
  }
  if ((ctx.io.stdout as NodeJS.WriteStream).isTTY) throw new StrataError('USAGE', 'refusing to write a tar to a terminal: redirect stdout or use -o FILE');
  return { kind: 'bytes', stream };
}

/** `volume import NAME [FILE|-]`: a tar into a new (or empty) volume. */
export async function runImport(ctx: CommandContext, name: string, file: string | undefined): Promise<CommandResult> {
  const fromStdin = ctx.isStd(file);
  if (fromStdin && (ctx.io.stdin as NodeJS.ReadStream).isTTY) throw new StrataError('USAGE', 'no tar on stdin: pipe one in or give a file');
  const tar = fromStdin ? (ctx.io.stdin as AsyncIterable<Uint8Array>) : createReadStream(file!);
  const v = await importVolume(ctx.globals.root, name, tar, { now: ctx.now(), checkpoint: pauseHook(ctx.io.env) });
  return { kind: 'text', text: v.name };
}

export function register(volume: Command, io: Io): void {
  volume
    .command('export')
    .description("a volume's files as a tar on stdout (owners, modes, times, xattrs, hard links kept)")
    .argument('<name>', 'volume name')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(action(io, (ctx, name: string, o: { output?: string }) => runExport(ctx, name, o)));
  volume
    .command('import')
    .description('unpack a tar (stdin or FILE) into a volume, created when missing (an existing one must be empty)')
    .argument('<name>', 'volume name')
    .argument('[file]', 'tar file (default: stdin)')
    .action(action(io, (ctx, name: string, file: string | undefined) => runImport(ctx, name, file)));
}
