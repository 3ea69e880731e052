// `strata image export REF [-o FILE|-]`: the flattened root filesystem as one tar (like `crane export`).
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { flatten, unionView } from '@strata/unionfs';
import type { CommandContext, CommandResult } from '../runner';
import { resolveImage, scratch } from './layer-sources';

export interface ImageExportOptions {
  output?: string;
}

export async function runImageExport(ctx: CommandContext, ref: string, opts: ImageExportOptions): Promise<CommandResult> {
  const tmp = scratch();
  const img = await resolveImage(ctx.globals.root, ref, tmp).catch((err) => {
    tmp.cleanup();
    throw err;
  });
  const view = await unionView(img.layers);
  const tar = (async function* () {
    try {
      yield* flatten(view);
    } finally {
      tmp.cleanup();
    }
  })();
  if (ctx.isStd(opts.output)) return { kind: 'bytes', stream: tar };
  await pipeline(Readable.from(tar), createWriteStream(opts.output!));
  return { kind: 'none' };
}
