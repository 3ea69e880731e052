// `build --push`: each tag of the result goes to the registry it names.
import { parseReference } from '@strata/oci';
import type { Store } from '@strata/image-store';
import type { CommandContext } from '../runner';
import { progressMode, registriesFor, storeEnd, transferPrinter } from './registry-lib';

export async function pushBuilt(ctx: CommandContext, store: Store, tags: string[]): Promise<void> {
  const { distribution } = await storeEnd(ctx);
  const registries = await registriesFor(ctx, undefined);
  const { pushImage } = await import('@strata/registry');
  const printer = transferPrinter(ctx, progressMode(ctx, 'plain'));
  try {
    for (const tag of tags) {
      const stored = await store.useImage(tag);
      const r = await pushImage({ registries, reference: parseReference(tag), image: stored.image, distribution, progress: printer.onEvent });
      ctx.log(`pushed ${tag}@${r.digest}`);
    }
  } finally {
    printer.finish();
    await registries.close();
  }
}
