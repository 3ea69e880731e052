import { readIndex, setTags, writeIndex } from './index-file';
import { collectGarbage } from './gc';
import { labelMatches, parseFilters, parseTimestamp } from './filters';
import { reachableDigests } from './reachable';
import { cacheRoots, containersByImage } from './side-state';
import type { RemoveEvent } from './remove';
import type { Store, StoredImage } from './store';
import { familiarReference, parseReference } from '@strata/oci';

export interface PruneOptions {
  /** Every image not used by a container, not only dangling ones. */
  all?: boolean;
  /** `until=<time>`, `label=k[=v]`, `label!=k[=v]` */
  filters?: string[];
  dryRun?: boolean;
  /** The time `until=DURATION` counts back from (default: the clock). */
  now?: Date;
}

export interface PruneResult {
  /** The images pruned (or, with dryRun, that would be). */
  images: StoredImage[];
  events: RemoveEvent[];
  /** Bytes of blobs deleted (dryRun: that would be deleted). */
  reclaimedBytes: number;
}

/**
 * `image prune`: dangling images (or all with `all`) that no container uses and no build-cache
 * root names, filtered; their index entries go, then GC reclaims their blobs.
 */
export async function pruneImages(store: Store, opts: PruneOptions = {}): Promise<PruneResult> {
  const filters = parseFilters(opts.filters ?? [], ['until', 'label', 'label!']);
  const now = opts.now?.getTime() ?? Date.now();
  const plan = await store.withLock(async () => {
    const used = await containersByImage(store.root);
    const roots = await cacheRoots(store.root);
    const all = await store.images();
    const candidates = all.filter((img) => {
      if (!opts.all && img.tags.length > 0) return false;
      if (used.has(img.id) || roots.has(img.id) || roots.has(img.manifestDigest)) return false;
      const labels = img.config.config?.Labels;
      for (const f of filters) {
        if (f.key === 'until') {
          const created = img.created ? Date.parse(img.created) : 0;
          if (!(created < parseTimestamp(f.value, now))) return false;
        } else if (labelMatches(f.value, labels) === f.negate) return false;
      }
      return true;
    });
    const events: RemoveEvent[] = [];
    let estimate = 0;
    if (candidates.length) {
      const index = await readIndex(store.root);
      const drop = new Set(candidates.map((c) => c.manifestDigest));
      const next = setTags(index, { drop: [...drop] });
      if (opts.dryRun) {
        const keep = await reachableDigests(store.blobs, next, roots);
        const before = await reachableDigests(store.blobs, index, roots);
        for (const d of before) if (!keep.has(d)) estimate += (await store.blobs.size(d)) ?? 0;
      } else {
        await writeIndex(store.root, next);
      }
      const deleted = new Set<string>();
      for (const c of candidates) {
        for (const t of c.tags) events.push({ untagged: familiarReference(parseReference(t)) });
        if (!deleted.has(c.id)) events.push({ deleted: c.id });
        deleted.add(c.id);
      }
    }
    return { candidates, events, estimate };
  });
  if (opts.dryRun) return { images: plan.candidates, events: plan.events, reclaimedBytes: plan.estimate };
  const reclaimedBytes = plan.candidates.length ? (await collectGarbage(store)).bytes : 0;
  return { images: plan.candidates, events: plan.events, reclaimedBytes };
}
