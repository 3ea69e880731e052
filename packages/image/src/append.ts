import type { Digest, HistoryEntry, ImageConfig } from '@strata/oci';
import type { Layer } from '@strata/layer';
import { imageFromParts } from './from-parts';
import type { Image } from './types';

/**
 * A new image with `layers` on top. `history` gives the new history entries (one per layer,
 * plus any `empty_layer` ones); by default each layer gets `{ created }` with the current time.
 * The diffIDs are added to `rootfs.diff_ids`; the input image is untouched.
 */
export async function append(image: Image, layers: Layer[], history?: HistoryEntry[]): Promise<Image> {
  const config: ImageConfig = await image.config();
  const created = new Date().toISOString();
  const diffIds: Digest[] = [];
  for (const l of layers) diffIds.push(await l.diffId());
  const entries: HistoryEntry[] = history ?? layers.map(() => ({ created }));
  const nonEmpty = entries.filter((h) => !h.empty_layer).length;
  if (nonEmpty !== layers.length) throw new Error(`append: ${layers.length} layers but ${nonEmpty} non-empty history entries`);
  const next: ImageConfig = {
    ...config,
    rootfs: { type: 'layers', diff_ids: [...config.rootfs.diff_ids, ...diffIds] },
    history: [...(config.history ?? []), ...entries],
  };
  const manifest = await image.manifest();
  return imageFromParts({
    rawConfig: Buffer.from(JSON.stringify(next)),
    layers: [...(await image.layers()), ...layers],
    annotations: manifest.annotations,
  });
}
