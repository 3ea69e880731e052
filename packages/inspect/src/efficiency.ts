// How much of an image's bytes are dead weight, counted exactly as dive counts it
// (github.com/wagoodman/dive: filetree/efficiency.go, image/analysis.go), so its CI thresholds
// carry over unchanged:
// - each layer is a tree of its tar entries (parents implied); only its leaves are visited;
// - per path: cumulative = Σ of its sizes over the layers that hold it, min = the smallest;
// - a whiteout of a path that was a directory below counts the bytes of that directory's
//   files; a whiteout of anything else counts 0; `.wh..wh.*` markers (opaque) are ignored;
// - efficiency = Σ min / Σ cumulative (1 when the sum is 0); wasted = Σ cumulative of the paths
//   seen in ≥ 2 layers (every copy, the kept one too); user size = all layers but the first.
// Works on tar metadata only, one layer at a time: what stays in memory grows with the number of
// paths, never with their bytes.
import type { TarEntry } from '@strata/tar';

const WH = '.wh.';
const WH_META = '.wh..wh.';

/** What this analysis needs of a tar entry. */
export type EfficiencyEntry = Pick<TarEntry, 'path' | 'type' | 'size'>;

export interface EfficiencyOptions {
  /** Paths (relative, no leading slash) to leave out of the per-path figures (`--exclude`). */
  exclude?: (path: string) => boolean;
}

/** What one layer did to a path that more than one layer touched. */
export interface PathEvent {
  /** Layer index, 0 = bottom. */
  layer: number;
  /** `added`: first seen; `modified`: written again; `deleted`: a whiteout. */
  action: 'added' | 'modified' | 'deleted';
  /** The bytes dive counts for it (a deleted directory: its files' bytes; a deleted file: 0). */
  sizeBytes: number;
}

/** A path that dive reports as inefficient (held by ≥ 2 layers). */
export interface WastedPath {
  /** Absolute path, as dive prints it (`/root/saved.txt`). */
  file: string;
  /** How many layers hold it (dive's `count`). */
  count: number;
  /** dive's cumulative size: every copy, including the one that stays. */
  sizeBytes: number;
  /** cumulative − smallest copy: what rebuilding without the extra copies saves at most. */
  reclaimableBytes: number;
  layers: PathEvent[];
  /** Why its bytes count, in one sentence. */
  why: string;
}

export interface LayerFigures {
  index: number;
  /** dive's layer size: the sum of its tar entries' sizes. */
  sizeBytes: number;
}

export interface EfficiencyReport {
  /** Σ min / Σ cumulative over all paths, 0..1. */
  efficiency: number;
  /** Σ layer sizes. */
  sizeBytes: number;
  /** Σ layer sizes but the first (dive's "user" bytes). */
  userSizeBytes: number;
  /** Σ cumulative over the paths held by ≥ 2 layers. */
  wastedBytes: number;
  /** wastedBytes / userSizeBytes (NaN when there are no user bytes, as in dive). */
  wastedUserPercent: number;
  /** Σ (cumulative − min) over those paths: strata's figure of what a rebuild could save. */
  reclaimableBytes: number;
  layers: LayerFigures[];
  /** Largest cumulative first, as dive lists them. */
  inefficiencies: WastedPath[];
}

export interface EfficiencyAnalyzer {
  /** Feed the next layer's entries (bottom layer first); they are not kept. */
  addLayer(entries: Iterable<EfficiencyEntry>): void;
  result(): EfficiencyReport;
}

/** A node of the stacked tree (dive's StackTreeRange): the payload of the topmost layer that had it. */
interface StackNode {
  size: number;
  isDir: boolean;
  kids?: Set<string>;
}

/** A node of one layer's tree. Implied parents have dive's empty payload (size 0, not a directory). */
interface LayerNode {
  size: number;
  isDir: boolean;
  hasKids: boolean;
}

interface PathData {
  cumulative: number;
  min: number;
  count: number;
  firstLayer: number;
  firstSize: number;
  /** All events, kept once the path is held by a second layer. */
  events?: PathEvent[];
}

const dirOf = (p: string) => {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
};
const baseOf = (p: string) => p.slice(p.lastIndexOf('/') + 1);
const join = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);

/** dive's visiting order of two leaves: by path component, bytewise (Go's sort.Strings per directory). */
function diveOrder(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] !== pb[i]) return Buffer.compare(Buffer.from(pa[i]), Buffer.from(pb[i]));
  }
  return pa.length - pb.length;
}

export function efficiencyAnalyzer(opts: EfficiencyOptions = {}): EfficiencyAnalyzer {
  const excluded = opts.exclude ?? (() => false);
  const stack = new Map<string, StackNode>([['', { size: 0, isDir: true }]]);
  const paths = new Map<string, PathData>();
  /** Paths in the order they reached a second layer (dive's inefficientMatches). */
  const matches: string[] = [];
  const layers: LayerFigures[] = [];

  const stackEnsure = (p: string): StackNode => {
    let n = stack.get(p);
    if (n) return n;
    const parent = stackEnsure(dirOf(p));
    n = { size: 0, isDir: false };
    stack.set(p, n);
    (parent.kids ??= new Set()).add(baseOf(p));
    return n;
  };
  const stackSet = (p: string, size: number, isDir: boolean) => {
    const n = stackEnsure(p);
    n.size = size;
    n.isDir = isDir;
  };
  const stackDrop = (p: string, n: StackNode) => {
    if (n.kids) for (const k of n.kids) stackDrop(join(p, k), stack.get(join(p, k))!);
    stack.delete(p);
  };
  const stackRemove = (p: string) => {
    const n = stack.get(p);
    if (!n || p === '') return;
    stackDrop(p, n);
    stack.get(dirOf(p))?.kids?.delete(baseOf(p));
  };
  /** Bytes below (and of) a stacked node, as dive's whiteout sizer counts them. */
  const subtreeBytes = (p: string, n: StackNode): number => {
    let sum = excluded(p) ? 0 : n.size;
    if (n.kids) for (const k of n.kids) sum += subtreeBytes(join(p, k), stack.get(join(p, k))!);
    return sum;
  };

  const record = (path: string, layer: number, size: number, whiteout: boolean) => {
    let d = paths.get(path);
    if (!d) paths.set(path, (d = { cumulative: 0, min: -1, count: 0, firstLayer: layer, firstSize: size }));
    d.cumulative += size;
    if (d.min < 0 || size < d.min) d.min = size;
    d.count++;
    if (d.count === 1) {
      d.firstLayer = layer;
      d.firstSize = size;
    } else {
      if (!d.events) d.events = [{ layer: d.firstLayer, action: 'added', sizeBytes: d.firstSize }];
      d.events.push({ layer, action: whiteout ? 'deleted' : 'modified', sizeBytes: size });
      if (d.count === 2) matches.push(path);
    }
  };

  /** Stack one layer's tree onto the stacked tree (dive's FileTree.Stack). */
  const stackLayer = (tree: Map<string, LayerNode>, whiteouts: string[]) => {
    // Siblings are visited by name: `.wh.x` before or after `x` decides whether x survives.
    const before: string[] = [];
    const after: string[] = [];
    for (const w of whiteouts) {
      const base = baseOf(w);
      (Buffer.compare(Buffer.from(base), Buffer.from(base.slice(WH.length))) < 0 ? before : after).push(w);
    }
    for (const w of before) stackRemove(join(dirOf(w), baseOf(w).slice(WH.length)));
    for (const [p, n] of tree) if (!baseOf(p).startsWith(WH)) stackSet(p, n.size, n.isDir);
    for (const w of after) stackRemove(join(dirOf(w), baseOf(w).slice(WH.length)));
  };

  const addLayer = (entries: Iterable<EfficiencyEntry>) => {
    const index = layers.length;
    let layerSize = 0;
    const tree = new Map<string, LayerNode>();
    const root: LayerNode = { size: 0, isDir: true, hasKids: false };
    /** The layer-tree node of a parent directory, created implied; undefined where a `.wh..wh.` name blocks it. */
    const ensure = (p: string): LayerNode | undefined => {
      if (p === '') return root;
      let n = tree.get(p);
      if (n) return n;
      const parent = ensure(dirOf(p));
      if (!parent || baseOf(p).startsWith(WH_META)) return undefined;
      n = { size: 0, isDir: false, hasKids: false };
      tree.set(p, n);
      parent.hasKids = true;
      return n;
    };
    for (const e of entries) {
      layerSize += e.size;
      const p = e.path;
      if (p === '.' || p === '') continue;
      const isDir = e.type === 'dir';
      const known = tree.get(p);
      if (known) {
        known.size = e.size;
        known.isDir = isDir;
        continue;
      }
      const parent = ensure(dirOf(p));
      if (!parent || baseOf(p).startsWith(WH_META)) continue;
      tree.set(p, { size: e.size, isDir, hasKids: false });
      parent.hasKids = true;
    }
    layers.push({ index, sizeBytes: layerSize });

    const whiteouts: string[] = [];
    for (const p of tree.keys()) if (baseOf(p).startsWith(WH)) whiteouts.push(p);
    // dive looks a whiteout's target up in the layers below stacked; for the bottom layer, in
    // that layer's own tree.
    if (index === 0) for (const [p, n] of tree) if (!baseOf(p).startsWith(WH)) stackSet(p, n.size, n.isDir);

    // A whiteout whose target is not below makes dive's visitor fail, which ends the walk of the
    // rest of that layer (in its visiting order); the failed path is still recorded, with its
    // min unset (-1), as dive leaves it.
    let stopAt: string | undefined;
    for (const w of whiteouts) {
      const target = join(dirOf(w), baseOf(w).slice(WH.length));
      if (excluded(target) || stack.has(target)) continue;
      if (stopAt === undefined || diveOrder(w, stopAt) < 0) stopAt = w;
    }
    for (const [p, n] of tree) {
      if (n.hasKids) continue;
      if (stopAt !== undefined && diveOrder(p, stopAt) >= 0) continue;
      const base = baseOf(p);
      if (base.startsWith(WH)) {
        const target = join(dirOf(p), base.slice(WH.length));
        if (excluded(target)) continue;
        const below = stack.get(target)!;
        record(target, index, below.isDir ? subtreeBytes(target, below) : 0, true);
      } else if (!excluded(p)) {
        record(p, index, n.size, false);
      }
    }
    if (stopAt !== undefined) {
      const target = join(dirOf(stopAt), baseOf(stopAt).slice(WH.length));
      if (!paths.has(target)) paths.set(target, { cumulative: 0, min: -1, count: 0, firstLayer: index, firstSize: 0 });
    }

    if (index === 0) {
      if (whiteouts.length) stackLayer(tree, whiteouts);
    } else {
      stackLayer(tree, whiteouts);
    }
  };

  const result = (): EfficiencyReport => {
    let minSum = 0;
    let cumSum = 0;
    for (const d of paths.values()) {
      minSum += d.min;
      cumSum += d.cumulative;
    }
    const sizeBytes = layers.reduce((a, l) => a + l.sizeBytes, 0);
    const userSizeBytes = sizeBytes - (layers[0]?.sizeBytes ?? 0);
    // dive sorts ascending by cumulative size (stable for its usual few paths) and lists them reversed.
    const order = matches.map((p, i) => ({ p, i, d: paths.get(p)! }));
    order.sort((a, b) => a.d.cumulative - b.d.cumulative || a.i - b.i);
    order.reverse();
    let wastedBytes = 0;
    let reclaimableBytes = 0;
    const inefficiencies: WastedPath[] = order.map(({ p, d }) => {
      wastedBytes += d.cumulative;
      reclaimableBytes += d.cumulative - d.min;
      const events = d.events ?? [];
      return { file: `/${p}`, count: d.count, sizeBytes: d.cumulative, reclaimableBytes: d.cumulative - d.min, layers: events, why: explain(events) };
    });
    return {
      efficiency: cumSum === 0 ? 1 : minSum / cumSum,
      sizeBytes,
      userSizeBytes,
      wastedBytes,
      wastedUserPercent: wastedBytes / userSizeBytes,
      reclaimableBytes,
      layers,
      inefficiencies,
    };
  };

  return { addLayer, result };
}

/** The report for whole layers at once (bottom first). */
export function efficiency(layers: Iterable<Iterable<EfficiencyEntry>>, opts: EfficiencyOptions = {}): EfficiencyReport {
  const a = efficiencyAnalyzer(opts);
  for (const l of layers) a.addLayer(l);
  return a.result();
}

const list = (xs: number[]) => (xs.length === 1 ? `layer ${xs[0]}` : `layers ${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

/** Why a path's bytes count as wasted (dive#238: "why is this file listed?"). */
function explain(events: PathEvent[]): string {
  const written = events.filter((e) => e.action !== 'deleted').map((e) => e.layer);
  const deleted = events.filter((e) => e.action === 'deleted');
  if (deleted.length && events[events.length - 1].action === 'deleted') {
    const dir = deleted.some((e) => e.sizeBytes > 0);
    return `${dir ? 'a directory ' : ''}written in ${list(written)} and deleted in ${list(deleted.map((e) => e.layer))}: the deleted bytes still ship in the lower layer${written.length > 1 ? 's' : ''}`;
  }
  if (deleted.length) return `written in ${list(written)}, deleted in between (${list(deleted.map((e) => e.layer))}): every written copy ships`;
  if (events.every((e) => e.sizeBytes === 0)) return `present in ${list(written)} with no bytes of its own (a directory or empty file touched again)`;
  return `written in ${list(written)}: each layer ships its own copy, only the top one is visible`;
}
