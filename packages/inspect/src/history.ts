// `docker history` rows from an image config: newest first, one per history entry; entries that
// made a layer carry that layer's size, the top row carries the image ID, the others "<missing>"
// (Docker only knows parent IDs for images built by its legacy builder on the same engine).
import { StrataError } from '@strata/errors';
import type { Digest } from '@strata/oci';

export interface HistoryRow {
  /** Image ID for the top row, `<missing>` below. */
  id: string;
  /** Unix seconds (as Docker's API), undefined when the entry has no date. */
  created?: number;
  createdBy: string;
  /** Size of the layer this step made (Docker's count), 0 for empty layers. */
  size: number;
  comment: string;
  emptyLayer: boolean;
  /** Tags of the image, on the top row. */
  tags: string[];
}

export interface HistoryInput {
  id: Digest;
  config: Record<string, unknown>;
  /** Per layer (bottom to top, as rootfs.diff_ids), the size Docker reports. */
  layerSizes: number[];
  tags?: string[];
}

export function imageHistory(input: HistoryInput): HistoryRow[] {
  const entries = Array.isArray(input.config.history) ? (input.config.history as Array<Record<string, unknown>>) : [];
  const diffIds = ((input.config.rootfs ?? {}) as { diff_ids?: string[] }).diff_ids ?? [];
  const rows: HistoryRow[] = [];
  let layer = 0;
  for (const h of entries) {
    const empty = h.empty_layer === true;
    let size = 0;
    if (!empty) {
      if (layer >= diffIds.length) throw new StrataError('INVALID_MANIFEST', `image ${input.id}: too many non-empty layers in history section`);
      size = input.layerSizes[layer] ?? 0;
      layer++;
    }
    const t = typeof h.created === 'string' ? Date.parse(h.created) : NaN;
    rows.push({
      id: '<missing>',
      created: Number.isNaN(t) ? undefined : Math.floor(t / 1000),
      createdBy: typeof h.created_by === 'string' ? h.created_by : '',
      size,
      comment: typeof h.comment === 'string' ? h.comment : '',
      emptyLayer: empty,
      tags: [],
    });
  }
  rows.reverse();
  if (rows.length) {
    rows[0].id = input.id;
    rows[0].tags = [...(input.tags ?? [])];
  }
  return rows;
}
