import { StrataError, isStrataError } from '@strata/errors';
import { parseReference, type Reference } from '@strata/oci';
import { openDistribution, type StoredImage } from '@strata/image-store';
import type { BuildCtx } from './build-state';

function registryReference(ref: string): Reference | undefined {
  try {
    return parseReference(ref);
  } catch {
    return undefined;
  }
}

/**
 * The image a `FROM` names: the store's, pulled first when the store lacks it (or, with
 * `--pull`, whenever the registry's tag may have moved: only a manifest and config are fetched
 * when the layers are already here). Without registry settings (a library caller that gave
 * none) only the store is asked.
 */
export async function baseImage(ctx: BuildCtx, ref: string): Promise<StoredImage> {
  const reference = registryReference(ref);
  const registry = ctx.opts.registry;
  if (!ctx.opts.pull || !reference || !registry) {
    try {
      return await ctx.store.image(ref);
    } catch (err) {
      if (!reference || !registry || !isStrataError(err, 'IMAGE_NOT_FOUND')) throw err;
    }
  }
  // loaded on first use: most builds never reach a registry, and undici costs a start-up
  const { openRegistries, pullImage } = await import('@strata/registry');
  const registries = openRegistries(registry);
  try {
    const pulled = await pullImage({
      registries,
      reference: reference!,
      root: ctx.store.root,
      openStore: async () => ctx.store,
      distribution: openDistribution(ctx.store.root),
      platform: ctx.platform,
    });
    return await ctx.store.useImage(pulled.id);
  } catch (err) {
    if (err instanceof StrataError && !ctx.opts.pull) {
      throw new StrataError(err.code, `base image ${JSON.stringify(ref)} is not in the local store, and pulling it failed: ${err.message}`, { hint: err.hint, cause: err });
    }
    throw err;
  } finally {
    await registries.close();
  }
}
