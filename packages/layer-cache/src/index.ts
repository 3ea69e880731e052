export { stepKey, canonicalJson } from './step-key';
export { openLayerCache } from './layer-cache';
export type { CacheRecord, CacheUsage, LayerCache, PruneResult } from './layer-cache';
