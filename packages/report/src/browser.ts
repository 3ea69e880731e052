// The terminal layer browser's state and screen, as pure functions (the CLI owns the terminal):
// a layer list (size, command), the file tree of the image as of the selected layer — the changes
// of that layer, or of every layer above the base (aggregated, dive's "compare all") — with
// A/M/D markers and colours, sizes, largest first (dive#323), a filter, collapsible directories.
// Which files are visible at a layer is unionfs's answer (one union implementation).
import { humanizeBytes, goFixed } from '@strata/inspect';
import { unionView, type LayerSource, type UnionView } from '@strata/unionfs';
import type { ImageModel } from './image-model';

export type Mark = 'A' | 'M' | 'D' | ' ';

export interface TreeRow {
  path: string;
  depth: number;
  name: string;
  isDir: boolean;
  size: number;
  mark: Mark;
  collapsed: boolean;
  /** Branch drawing for this row ("│   ├── "). */
  prefix: string;
}

export interface BrowserState {
  layer: number;
  aggregated: boolean;
  focus: 'layers' | 'tree';
  /** First visible row and cursor row of the tree pane. */
  top: number;
  cursor: number;
  filter: string;
  editingFilter: boolean;
  collapsed: ReadonlySet<string>;
  bySize: boolean;
  quit: boolean;
}

export interface Browser {
  model: ImageModel;
  /** The rows of the tree for a state (computed from cached union views). */
  rows(state: BrowserState): Promise<TreeRow[]>;
}

interface Node {
  name: string;
  path: string;
  isDir: boolean;
  size: number;
  mark: Mark;
  kids: Map<string, Node>;
}

export function initialState(): BrowserState {
  return { layer: 0, aggregated: false, focus: 'layers', top: 0, cursor: 0, filter: '', editingFilter: false, collapsed: new Set(), bySize: true, quit: false };
}

export function createBrowser(model: ImageModel, sources: LayerSource[]): Browser {
  const views = new Map<number, Promise<UnionView>>();
  const viewAt = (i: number): Promise<UnionView> => {
    let v = views.get(i);
    if (!v) views.set(i, (v = unionView(sources.slice(0, i + 1))));
    return v;
  };
  const trees = new Map<string, Promise<Node>>();
  const treeFor = (layer: number, aggregated: boolean): Promise<Node> => {
    const key = `${layer}:${aggregated}`;
    let t = trees.get(key);
    if (!t) trees.set(key, (t = buildTree(layer, aggregated)));
    return t;
  };
  async function buildTree(layer: number, aggregated: boolean): Promise<Node> {
    const now = await viewAt(layer);
    const base = aggregated ? 0 : layer - 1;
    const before = base >= 0 && layer > 0 ? await viewAt(base) : undefined;
    const root: Node = { name: '/', path: '.', isDir: true, size: 0, mark: ' ', kids: new Map() };
    const place = (path: string, isDir: boolean, size: number, mark: Mark) => {
      const parts = path.split('/');
      let n = root;
      for (let i = 0; i < parts.length; i++) {
        const p = parts.slice(0, i + 1).join('/');
        let k = n.kids.get(parts[i]);
        if (!k) n.kids.set(parts[i], (k = { name: parts[i], path: p, isDir: true, size: 0, mark: ' ', kids: new Map() }));
        if (i === parts.length - 1) {
          k.isDir = isDir;
          k.size = size;
          k.mark = mark;
        }
        n = k;
      }
    };
    for (const e of now.entries()) {
      const changed = layer > 0 && (aggregated ? e.layer >= 1 : e.layer === layer);
      const mark: Mark = !changed || !before ? (layer === 0 && !aggregated ? 'A' : ' ') : before.stat(e.path) ? 'M' : 'A';
      place(e.path, e.type === 'dir', e.type === 'file' ? e.size : 0, mark);
    }
    if (before) for (const e of before.entries()) if (!now.stat(e.path)) place(e.path, e.type === 'dir', e.type === 'file' ? e.size : 0, 'D');
    const total = (n: Node): number => {
      if (!n.isDir) return n.size;
      let s = 0;
      for (const k of n.kids.values()) s += total(k);
      n.size = s;
      // A directory is marked when something below it changed (as dive marks it modified).
      if (n.mark === ' ' && [...n.kids.values()].some((k) => k.mark !== ' ')) n.mark = 'M';
      return s;
    };
    total(root);
    return root;
  }
  return {
    model,
    async rows(state) {
      const root = await treeFor(state.layer, state.aggregated);
      const out: TreeRow[] = [];
      const filter = state.filter.toLowerCase();
      const matches = (n: Node): boolean => !filter || n.path.toLowerCase().includes(filter) || (n.isDir && [...n.kids.values()].some(matches));
      const walk = (n: Node, depth: number, lines: boolean[]) => {
        const kids = [...n.kids.values()].filter(matches);
        kids.sort((a, b) => (state.bySize ? b.size - a.size : 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        kids.forEach((k, i) => {
          const last = i === kids.length - 1;
          const prefix = `${lines.map((l) => (l ? '│   ' : '    ')).join('')}${last ? '└── ' : '├── '}`;
          const collapsed = k.isDir && state.collapsed.has(k.path);
          out.push({ path: k.path, depth, name: k.name, isDir: k.isDir, size: k.size, mark: k.mark, collapsed, prefix });
          if (k.isDir && !collapsed) walk(k, depth + 1, [...lines, !last]);
        });
      };
      walk(root, 0, []);
      return out;
    },
  };
}

/** Key names the CLI decodes from the terminal. */
export type Key = 'up' | 'down' | 'pageup' | 'pagedown' | 'tab' | 'enter' | 'escape' | 'backspace' | 'space' | 'ctrl-a' | 'ctrl-f' | 'ctrl-o' | 'ctrl-c' | { char: string };

/** The next state after a key. `rows` is the current tree (for cursor bounds and collapse). */
export function handleKey(state: BrowserState, key: Key, layers: number, rows: TreeRow[], height: number): BrowserState {
  const s = { ...state };
  const ch = typeof key === 'object' ? key.char : undefined;
  if (s.editingFilter) {
    if (key === 'enter' || key === 'escape') s.editingFilter = false;
    else if (key === 'backspace') s.filter = s.filter.slice(0, -1);
    else if (ch !== undefined) s.filter += ch;
    else if (key === 'space') s.filter += ' ';
    s.cursor = 0;
    s.top = 0;
    return s;
  }
  if (key === 'ctrl-c' || ch === 'q') return { ...s, quit: true };
  if (key === 'tab') return { ...s, focus: s.focus === 'layers' ? 'tree' : 'layers' };
  if (key === 'ctrl-a' || ch === 'a') return { ...s, aggregated: !s.aggregated, cursor: 0, top: 0 };
  if (key === 'ctrl-o' || ch === 's') return { ...s, bySize: !s.bySize };
  if (key === 'ctrl-f' || ch === '/') return { ...s, editingFilter: true, focus: 'tree' };
  const move = key === 'up' || ch === 'k' ? -1 : key === 'down' || ch === 'j' ? 1 : key === 'pageup' ? -height : key === 'pagedown' ? height : 0;
  if (s.focus === 'layers') {
    if (move) s.layer = Math.min(layers - 1, Math.max(0, s.layer + move));
    if (move) {
      s.cursor = 0;
      s.top = 0;
    }
    return s;
  }
  if (move) {
    s.cursor = Math.min(Math.max(0, rows.length - 1), Math.max(0, s.cursor + move));
    if (s.cursor < s.top) s.top = s.cursor;
    if (s.cursor >= s.top + height) s.top = s.cursor - height + 1;
  }
  if (key === 'space' || key === 'enter') {
    const row = rows[s.cursor];
    if (row?.isDir) {
      const c = new Set(s.collapsed);
      if (c.has(row.path)) c.delete(row.path);
      else c.add(row.path);
      s.collapsed = c;
    }
  }
  return s;
}

const COLOR: Record<Mark, string> = { A: '\x1b[32m', M: '\x1b[33m', D: '\x1b[31m', ' ': '' };
const RESET = '\x1b[0m';
const INVERSE = '\x1b[7m';

/** Cut or pad to a visible width (the text has no escape codes). */
const fit = (s: string, w: number) => {
  const chars = [...s];
  return chars.length > w ? `${chars.slice(0, Math.max(0, w - 1)).join('')}…` : s + ' '.repeat(w - chars.length);
};

/** The screen for a state: `height` lines of `width` columns, with ANSI colours unless `color` is false. */
export function renderScreen(b: Browser, state: BrowserState, rows: TreeRow[], width: number, height: number, color = true): string[] {
  const m = b.model;
  const leftW = Math.max(28, Math.min(44, Math.floor(width * 0.42)));
  const rightW = width - leftW - 1;
  const paint = (s: string, code: string) => (color && code ? `${code}${s}${RESET}` : s);
  const body = height - 2;
  const left: string[] = [];
  const title = (t: string, focused: boolean, w: number) => paint(fit(`${focused ? '●' : '┃'} ${t} ${'─'.repeat(w)}`, w), focused && color ? '\x1b[1m' : '');
  left.push(title('Layers', state.focus === 'layers', leftW));
  left.push(fit(' Cmp    Size  Command', leftW));
  const maxLayers = Math.max(3, body - 9);
  const first = Math.max(0, Math.min(state.layer - Math.floor(maxLayers / 2), m.layers.length - maxLayers));
  for (const l of m.layers.slice(first, first + maxLayers)) {
    const cmp = state.aggregated ? (l.index <= state.layer && l.index > 0 ? '▓' : l.index === 0 ? '░' : ' ') : l.index === state.layer ? '█' : ' ';
    const text = fit(` ${cmp}${String(l.index).padStart(3)} ${humanizeBytes(l.sizeBytes).padStart(7)}  ${l.command.replace(/\s+/g, ' ')}`, leftW);
    left.push(l.index === state.layer ? paint(text, INVERSE) : text);
  }
  const sel = m.layers[state.layer];
  const a = m.analysis;
  left.push(title('Layer Details', false, leftW));
  left.push(fit(` Digest: ${sel?.diffId.slice(7, 19) ?? ''}`, leftW));
  left.push(fit(` Command: ${sel?.command.replace(/\s+/g, ' ') ?? ''}`, leftW));
  left.push(title('Image Details', false, leftW));
  left.push(fit(` Total Image size: ${humanizeBytes(a.sizeBytes)}`, leftW));
  left.push(fit(` Potential wasted space: ${humanizeBytes(a.wastedBytes)}`, leftW));
  left.push(fit(` Image efficiency score: ${goFixed(a.efficiency * 100, 0)} %`, leftW));
  while (left.length < body) left.push(' '.repeat(leftW));

  const right: string[] = [];
  right.push(title(state.aggregated ? 'Aggregated Layer Contents' : 'Current Layer Contents', state.focus === 'tree', rightW));
  right.push(fit(state.editingFilter || state.filter ? ` Filter: ${state.filter}${state.editingFilter ? '▏' : ''}` : ' M     Size  Filetree', rightW));
  const treeH = body - 2;
  for (let i = state.top; i < Math.min(rows.length, state.top + treeH); i++) {
    const r = rows[i];
    const text = fit(` ${r.mark} ${humanizeBytes(r.size).padStart(8)}  ${r.prefix}${r.collapsed ? '⊕ ' : ''}${r.name}${r.isDir ? '/' : ''}`, rightW);
    const line = state.focus === 'tree' && i === state.cursor ? paint(text, INVERSE) : paint(text, COLOR[r.mark]);
    right.push(line);
  }
  while (right.length < body) right.push(' '.repeat(rightW));

  const lines = left.slice(0, body).map((l, i) => `${l}│${right[i]}`);
  lines.push(fit(' q Quit  Tab Switch  a Aggregated  / Filter  Space Collapse  s Sort', width));
  lines.push(fit(` ${state.aggregated ? 'layers 1–' : 'layer '}${state.layer}  ${rows.length} rows  sort: ${state.bySize ? 'size' : 'name'}`, width));
  return lines;
}
