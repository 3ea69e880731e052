// How much of an image's bytes are dead weight: file versions that a higher layer overwrote or
// deleted still ship in the lower layer. The score follows dive (github.com/wagoodman/dive):
// Σ per path of the smallest size seen / Σ per path of all sizes seen across layers
// (1 = no path appears twice). Works on tar headers only (no file data is read).
import type { TarHeader } from './tar-scan';

export interface PathWaste {
  /** Path without a leading slash, as in the layer tars. */
  path: string;
  /** Layers (0 = bottom) in which this path was added, changed or deleted. */
  layers: number[];
  /** Bytes of every version of the path (a deletion counts the bytes it hides, as dive does). */
  cumulativeSize: number;
  /** Bytes of versions no longer visible in the final image. */
  wastedBytes: number;
}

export interface EfficiencyReport {
  /** dive's efficiency score, 0..1. */
  score: number;
  /** Bytes in layers that the final image does not show (overwritten or deleted higher up). */
  wastedBytes: number;
  /** Sum of the layers' file bytes (Docker's image Size). */
  totalBytes: number;
  /** wastedBytes / totalBytes (0 when empty). */
  wastedRatio: number;
  /** Paths touched by more than one layer, most wasted bytes first. */
  paths: PathWaste[];
}

const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';

function clean(p: string): string {
  return p.replace(/^\.?\/+/, '').replace(/\/+$/, '');
}

interface Data {
  layers: number[];
  /** dive's cumulative size: versions added plus the bytes each deletion hid. */
  cumulative: number;
  min: number;
  /** Bytes of the versions added (deletions not counted). */
  added: number;
}

/** `layers`: the tar headers of each layer, bottom to top. */
export function efficiency(layers: TarHeader[][]): EfficiencyReport {
  const visible = new Map<string, number>(); // path → size of the visible version (non-directories)
  const data = new Map<string, Data>();
  let totalBytes = 0;
  let hidden = 0;

  const touch = (path: string, layer: number, size: number, added: boolean) => {
    let d = data.get(path);
    if (!d) data.set(path, (d = { layers: [], cumulative: 0, min: -1, added: 0 }));
    d.layers.push(layer);
    d.cumulative += size;
    if (added) d.added += size;
    if (d.min < 0 || size < d.min) d.min = size;
  };
  /** Drop visible paths below `dir` (not those this layer added); their bytes are now hidden. */
  const removeUnder = (dir: string, keep?: Set<string>): number => {
    let bytes = 0;
    const prefix = dir ? `${dir}/` : '';
    for (const [p, size] of visible) {
      if (p.startsWith(prefix) && !keep?.has(p)) {
        bytes += size;
        visible.delete(p);
      }
    }
    return bytes;
  };

  layers.forEach((entries, li) => {
    const addedHere = new Set<string>();
    for (const e of entries) {
      const path = clean(e.path);
      const slash = path.lastIndexOf('/');
      const dir = slash < 0 ? '' : path.slice(0, slash);
      const base = path.slice(slash + 1);
      if (base === OPAQUE) {
        hidden += removeUnder(dir, addedHere);
        continue;
      }
      if (base.startsWith(WH)) {
        const target = (dir ? `${dir}/` : '') + base.slice(WH.length);
        const gone = (visible.get(target) ?? 0) + removeUnder(target);
        visible.delete(target);
        hidden += gone;
        touch(target, li, gone, false);
        continue;
      }
      if (e.type === 'directory') continue;
      const size = e.type === 'file' ? e.size : 0;
      totalBytes += size;
      const before = visible.get(path);
      if (before !== undefined) hidden += before;
      visible.set(path, size);
      addedHere.add(path);
      touch(path, li, size, true);
    }
  });

  let minSum = 0;
  let cumSum = 0;
  const paths: PathWaste[] = [];
  for (const [path, d] of data) {
    minSum += d.min;
    cumSum += d.cumulative;
    if (d.layers.length > 1) {
      paths.push({ path, layers: d.layers, cumulativeSize: d.cumulative, wastedBytes: d.added - (visible.get(path) ?? 0) });
    }
  }
  paths.sort((a, b) => b.wastedBytes - a.wastedBytes || (a.path < b.path ? -1 : 1));
  return { score: cumSum === 0 ? 1 : minSum / cumSum, wastedBytes: hidden, totalBytes, wastedRatio: totalBytes ? hidden / totalBytes : 0, paths };
}
