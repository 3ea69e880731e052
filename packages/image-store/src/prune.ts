import { readIndex, setTags, writeIndex } from './index-file';
import { collectGarbage } from './gc';
import { StrataError } from '@strata/errors';
import { matchKVList, parseFilters, parseTimestamp } from './filters';
import { reachableDigests } from './reachable';
import { cacheRoots, type ImagesInUse } from './side-state';
import type { RemoveEvent } from './remove';
import type { Store, StoredImage } from './store';
import { familiarReference, parseReference } from '@strata/oci';

export interface PruneOptions {
  /** Every image not used by a container, not only dangling ones. */
  all?: boolean;
  /** `until=<time>`, `label=k[=v]`, `label!=k[=v]`, `dangling=true|false` (Docker's semantics) */
  filters?: string[];
  dryRun?: boolean;
  /** The time `until=DURATION` counts back from (default: the clock). */
  now?: Date;
  /** The containers that use each image (@strata/container's `imagesInUse`): those images stay. */
  usedBy?: ImagesInUse;
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
  const filters = parseFilters(opts.filters ?? [], ['until', 'label', 'label!', 'dangling']);
  const now = opts.now?.getTime() ?? Date.now();
  const values = (key: string, negate = false) => filters.filter((f) => f.key === key && f.negate === negate).map((f) => f.value);
  const untils = values('until');
  if (untils.length > 1) throw new StrataError('USAGE', 'more than one until filter specified');
  // Docker compares whole seconds: created (Unix seconds) must be before until (Unix seconds).
  const until = untils.length ? Math.floor(parseTimestamp(untils[0], now) / 1000) : undefined;
  let danglingOnly = !opts.all;
  for (const d of values('dangling')) {
    if (d === 'false' || d === '0') danglingOnly = false;
    else if (d !== 'true' && d !== '1') throw new StrataError('USAGE', `invalid filter 'dangling=${d}'`);
  }
  const labels = values('label');
  const notLabels = values('label', true);
  const plan = await store.withLock(async () => {
    const used: ImagesInUse = opts.usedBy ?? new Map();
    const roots = await cacheRoots(store.root);
    const all = await store.images();
    const candidates = all.filter((img) => {
      if (danglingOnly && img.tags.length > 0) return false;
      if (used.has(img.id) || roots.has(img.id) || roots.has(img.manifestDigest)) return false;
      if (until !== undefined && !(Math.floor((img.created ? Date.parse(img.created) : 0) / 1000) < until)) return false;
      // moby's matchLabels: every label= holds, and not every label!= holds.
      const l = img.config.config?.Labels;
      if (!matchKVList(labels, l)) return false;
      if (notLabels.length && matchKVList(notLabels, l)) return false;
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
        await store.checkpoint('index-written');
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
