// `strata image cat REF PATH`: one file of the merged view, to stdout.
import { unionView } from '@strata/unionfs';
import type { CommandContext, CommandResult } from '../runner';
import { resolveImage, scratch } from './layer-sources';

export async function runImageCat(ctx: CommandContext, ref: string, path: string): Promise<CommandResult> {
  const tmp = scratch();
  try {
    const img = await resolveImage(ctx.globals.root, ref, tmp);
    const view = await unionView(img.layers);
    const stream = await view.read(path);
    return {
      kind: 'bytes',
      stream: (async function* () {
        try {
          yield* stream;
        } finally {
          tmp.cleanup();
        }
      })(),
    };
  } catch (err) {
    tmp.cleanup();
    throw err;
  }
}
