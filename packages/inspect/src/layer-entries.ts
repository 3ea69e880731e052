// The tar entries of a layer, read with the one tar codec (@strata/tar): a stored uncompressed
// blob is indexed in place (headers only, file data jumped over); anything else is streamed once
// and its file data dropped as it passes. Memory grows with the number of entries, never with
// their bytes.
import { indexTarFile, readTar, type TarEntry } from '@strata/tar';
import type { LayerSource } from '@strata/unionfs';

export async function layerEntries(layer: LayerSource): Promise<TarEntry[]> {
  const what = layer.name ?? layer.diffId ?? 'layer';
  if (layer.path) return indexTarFile(layer.path, { what });
  if (!layer.open) throw new Error(`${what}: a layer source needs a path or an opener`);
  const out: TarEntry[] = [];
  for await (const { entry } of readTar(await layer.open(), { what })) out.push(entry);
  return out;
}
