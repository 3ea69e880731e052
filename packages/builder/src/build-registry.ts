import type { BuildOptions, BuildResult } from './types';
import { build as buildImage } from './build';

/**
 * A build with the registry around it: `--cache-from` images are pulled and their records
 * answer cache misses; after the build, `--cache-to` pushes the records it used (and their
 * layers). FROM pulls happen inside the build (pull-base.ts).
 */
export async function build(opts: BuildOptions): Promise<BuildResult> {
  if (!opts.registry || (!opts.cacheFrom?.length && !opts.cacheTo)) return buildImage(opts);
  const { exportBuildCache, openBuildCache } = await import('./registry-cache');
  const warn = (message: string) => opts.progress?.({ type: 'warning', message });
  const cache = await openBuildCache(opts.store, { cacheFrom: opts.cacheFrom, registry: opts.registry, warn });
  const result = await buildImage({ ...opts, layerCache: cache });
  if (opts.cacheTo) await exportBuildCache(opts.store, cache.used(), opts.cacheTo, opts.registry);
  return result;
}
