// The treemap: every version of every regular file in the image, area ∝ its bytes (so the whole
// picture is the image's size), coloured by the layer that wrote it. Versions the merged
// filesystem no longer shows (overwritten or deleted higher up) are hatched: that is the waste.
// Layout by d3-hierarchy's squarified treemap; the drawing is plain SVG.
import { hierarchy, treemap, treemapSquarify, type HierarchyRectangularNode } from 'd3-hierarchy';
import type { FileVersion, ImageModel } from './image-model';

interface TreeNode {
  name: string;
  /** Bytes of a leaf. */
  size?: number;
  version?: FileVersion;
  /** A leaf standing for several small files of one directory. */
  merged?: { count: number; layer: number };
  children?: TreeNode[];
}

export interface TreemapOptions {
  width?: number;
  height?: number;
  /** Beyond this many rectangles, the smallest files of each directory are drawn as one. */
  maxRects?: number;
}

/** A distinct colour per layer (golden-angle hues), the same in every picture of the report. */
export function layerColor(layer: number): string {
  return `hsl(${Math.round((layer * 137.508 + 200) % 360)}, 62%, 58%)`;
}

export const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);

function buildTree(files: FileVersion[], maxRects: number): TreeNode {
  // Files smaller than the maxRects-th largest are merged per directory and layer.
  const sorted = files.map((f) => f.size).sort((a, b) => b - a);
  const cutoff = files.length > maxRects ? sorted[maxRects - 1] : 0;
  const root: TreeNode = { name: '/', children: [] };
  const dirs = new Map<string, TreeNode>([['', root]]);
  const dirNode = (dir: string): TreeNode => {
    let n = dirs.get(dir);
    if (n) return n;
    const slash = dir.lastIndexOf('/');
    const parent = dirNode(slash < 0 ? '' : dir.slice(0, slash));
    n = { name: dir.slice(slash + 1), children: [] };
    parent.children!.push(n);
    dirs.set(dir, n);
    return n;
  };
  const small = new Map<string, TreeNode>();
  for (const f of files) {
    const slash = f.path.lastIndexOf('/');
    const dir = slash < 0 ? '' : f.path.slice(0, slash);
    if (f.size < cutoff && f.visible) {
      const key = `${dir}\0${f.layer}`;
      let m = small.get(key);
      if (!m) {
        m = { name: `(small files, layer ${f.layer})`, size: 0, merged: { count: 0, layer: f.layer } };
        dirNode(dir).children!.push(m);
        small.set(key, m);
      }
      m.size! += f.size;
      m.merged!.count++;
      continue;
    }
    dirNode(dir).children!.push({ name: f.path.slice(slash + 1), size: f.size, version: f });
  }
  return root;
}

export interface TreemapRect {
  x: number;
  y: number;
  w: number;
  h: number;
  bytes: number;
  layer: number;
  hatched: boolean;
  label: string;
}

/** Layout only (for tests and other drawings): one rectangle per leaf. */
export function treemapRects(model: ImageModel, opts: TreemapOptions = {}): TreemapRect[] {
  const width = opts.width ?? 1200;
  const height = opts.height ?? 700;
  const root = hierarchy(buildTree(model.files, opts.maxRects ?? 3000))
    .sum((d) => d.size ?? 0)
    .sort((a, b) => (b.value ?? 0) - (a.value ?? 0));
  // No padding: a rectangle's area is exactly its share of the bytes.
  const laid = treemap<TreeNode>().tile(treemapSquarify).size([width, height]).round(false)(root);
  return laid.leaves().filter((l) => (l.value ?? 0) > 0).map((l: HierarchyRectangularNode<TreeNode>) => {
    const d = l.data;
    const path = l.ancestors().reverse().slice(1).map((a) => a.data.name).join('/');
    const layer = d.version?.layer ?? d.merged?.layer ?? 0;
    const hatched = d.version ? !d.version.visible : false;
    const label = d.merged
      ? `/${path}: ${d.merged.count} files, ${d.size} bytes, layer ${layer}`
      : `/${path}: ${d.size} bytes, layer ${layer}${hatched ? (model.wasted.has(`/${d.version!.path}`) ? ', wasted: not visible in the image' : ', not visible in the image') : ''}`;
    return { x: l.x0, y: l.y0, w: l.x1 - l.x0, h: l.y1 - l.y0, bytes: d.size ?? 0, layer, hatched, label };
  });
}

const num = (n: number) => (Math.round(n * 100) / 100).toString();

/** The treemap as a standalone SVG document (also embedded in the HTML report). */
export function renderTreemapSvg(model: ImageModel, opts: TreemapOptions = {}): string {
  const width = opts.width ?? 1200;
  const height = opts.height ?? 700;
  const rects = treemapRects(model, { ...opts, width, height });
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    '<defs><pattern id="hatch" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect width="6" height="6" fill="none"/><line x1="0" y1="0" x2="0" y2="6" stroke="#000" stroke-opacity="0.55" stroke-width="2.5"/></pattern></defs>',
    `<rect width="${width}" height="${height}" fill="#f4f4f4"/>`,
  ];
  for (const r of rects) {
    const title = `<title>${escapeXml(r.label)}</title>`;
    out.push(`<g class="file${r.hatched ? ' wasted' : ''}" data-bytes="${r.bytes}" data-layer="${r.layer}">${title}`);
    out.push(`<rect x="${num(r.x)}" y="${num(r.y)}" width="${num(r.w)}" height="${num(r.h)}" fill="${layerColor(r.layer)}" stroke="#fff" stroke-width="0.5"/>`);
    if (r.hatched) out.push(`<rect x="${num(r.x)}" y="${num(r.y)}" width="${num(r.w)}" height="${num(r.h)}" fill="url(#hatch)"/>`);
    if (r.w > 60 && r.h > 14) {
      const name = r.label.slice(0, r.label.indexOf(':')).split('/').pop()!;
      const max = Math.floor((r.w - 6) / 6.2);
      out.push(`<text x="${num(r.x + 3)}" y="${num(r.y + 12)}" fill="#111">${escapeXml(name.length > max ? `${name.slice(0, Math.max(1, max - 1))}…` : name)}</text>`);
    }
    out.push('</g>');
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
