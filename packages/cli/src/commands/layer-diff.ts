// `strata layer diff A [B] [--summary]`: A and B are image references, image archives, layer tars or directories.
import { diffViews, unionView, type DetailedChange, type UnionView, type What } from '@strata/unionfs';
import type { CommandContext, CommandResult } from '../runner';
import { entryRecord } from './layer-format';
import { resolveOperand, scratch } from './layer-sources';

export interface LayerDiffOptions {
  summary?: boolean;
  ignoreMtime?: boolean;
}

const LETTER = { add: 'A', modify: 'C', delete: 'D' } as const;

function changeRecord(c: DetailedChange, layer?: number): Record<string, unknown> {
  const r: Record<string, unknown> = { kind: c.kind, path: c.path };
  if (layer !== undefined) r.layer = layer;
  if (c.what) r.what = c.what;
  if (c.a) r.a = entryRecord(c.a);
  if (c.b) r.b = entryRecord(c.b);
  return r;
}

interface Summary {
  added: number;
  changed: number;
  deleted: number;
  addedBytes: number;
  changedBytes: number;
  deletedBytes: number;
}

function summarise(changes: DetailedChange[], view: { a?: UnionView }): Summary {
  const s: Summary = { added: 0, changed: 0, deleted: 0, addedBytes: 0, changedBytes: 0, deletedBytes: 0 };
  for (const c of changes) {
    if (c.kind === 'add') {
      s.added++;
      s.addedBytes += c.b?.size ?? 0;
    } else if (c.kind === 'modify') {
      s.changed++;
      s.changedBytes += c.b?.size ?? 0;
    } else {
      s.deleted++;
      // A deleted directory takes everything below it.
      if (c.a?.type === 'dir' && view.a) {
        const prefix = `${c.a.path}/`;
        for (const e of view.a.entries()) if (e.path.startsWith(prefix)) s.deletedBytes += e.size;
      } else s.deletedBytes += c.a?.size ?? 0;
    }
  }
  return s;
}

export async function runLayerDiff(ctx: CommandContext, a: string, b: string | undefined, opts: LayerDiffOptions): Promise<CommandResult> {
  const tmp = scratch();
  try {
    const ignore: What[] = opts.ignoreMtime ? ['mtime'] : [];
    const all: Array<{ change: DetailedChange; layer?: number }> = [];
    let views: { a?: UnionView } = {};
    if (b === undefined) {
      // Each layer against the one below.
      const opA = await resolveOperand(ctx.globals.root, a, tmp);
      const layers = opA.image?.layers ?? opA.view.layers;
      let below = await unionView([]);
      for (let i = 0; i < layers.length; i++) {
        const above = await unionView(layers.slice(0, i + 1));
        for await (const change of diffViews(below, above, { ignore })) all.push({ change, layer: i });
        below = above;
      }
    } else {
      const [opA, opB] = [await resolveOperand(ctx.globals.root, a, tmp), await resolveOperand(ctx.globals.root, b, tmp)];
      views = { a: opA.view };
      for await (const change of diffViews(opA.view, opB.view, { ignore })) all.push({ change });
    }
    const exitCode = all.length > 0 ? 1 : 0;
    if (opts.summary) {
      const s = summarise(all.map((x) => x.change), views);
      if (ctx.globals.format === 'json') return { kind: 'json', value: s, exitCode };
      return {
        kind: 'text',
        text: `added ${s.added} (${s.addedBytes} bytes), changed ${s.changed} (${s.changedBytes} bytes), deleted ${s.deleted} (${s.deletedBytes} bytes)`,
        exitCode,
      };
    }
    if (ctx.globals.format === 'json') return { kind: 'records', records: all.map((x) => changeRecord(x.change, x.layer)), exitCode };
    const lines = all.map((x) => `${x.layer !== undefined ? `${x.layer} ` : ''}${LETTER[x.change.kind]} ${x.change.path}`);
    return { kind: 'text', text: lines.join('\n'), exitCode };
  } finally {
    tmp.cleanup();
  }
}
