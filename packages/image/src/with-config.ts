import type { ImageConfig } from '@strata/oci';
import { imageFromParts } from './from-parts';
import type { Image } from './types';

export type ConfigPatch = Partial<ImageConfig> | ((config: ImageConfig) => ImageConfig);

/**
 * A new image whose config is changed by `patch` (an object merged at the top level — `config`
 * one level deeper — or a function); layers are shared, the input is untouched.
 */
export async function withConfig(image: Image, patch: ConfigPatch): Promise<Image> {
  const config = await image.config();
  const next: ImageConfig =
    typeof patch === 'function'
      ? patch(structuredClone(config))
      : { ...config, ...patch, ...(patch.config ? { config: { ...(config.config ?? {}), ...patch.config } } : {}) };
  const manifest = await image.manifest();
  return imageFromParts({ rawConfig: Buffer.from(JSON.stringify(next)), layers: await image.layers(), annotations: manifest.annotations });
}
