import type { HistoryEntry } from '@strata/oci';

/**
 * Fill in `created` of new history entries as BuildKit's exporter does
 * (`normalizeLayersAndHistory`): a layer entry keeps its layer's time (from the cache record, so
 * an unchanged rebuild keeps the image ID); a metadata entry takes the time of the first new layer
 * before any layer was seen, then that of the nearest layer above it in order.
 */
export function fillHistoryTimes(history: HistoryEntry[], now: string): { history: HistoryEntry[]; created: string } {
  let created: string | undefined;
  let sawMissing = false;
  for (const h of history) {
    if (h.created !== undefined) {
      created = h.created;
      if (sawMissing) break;
    } else sawMissing = true;
  }
  sawMissing = false;
  const out = history.map((h) => {
    if (h.created !== undefined) {
      if (sawMissing) created = h.created;
      return h;
    }
    sawMissing = true;
    return { ...h, created: created ?? now };
  });
  let last: string | undefined;
  for (const h of out) if (h.created !== undefined) last = h.created;
  return { history: out, created: last ?? now };
}
