// `strata image history REF [--no-trunc] [-H=false] [-q] [--format json|table …|TEMPLATE]`
import { openStore } from '@strata/image-store';
import {
  compileTemplate,
  goJson,
  goValue,
  historyTableFormat,
  historyView,
  imageHistory,
  parseListFormat,
  renderRows,
  HISTORY_HEADERS,
  HISTORY_VIEW,
  type HistoryRow,
} from '@strata/inspect';
import { familiarReference, parseReference } from '@strata/oci';
import { StrataError } from '@strata/errors';
import type { CommandContext, CommandResult } from '../runner';
import { findImage, layerSizes } from './image-inspect';

export interface HistoryRenderOptions {
  format?: string;
  trunc: boolean;
  human: boolean;
  quiet: boolean;
  now?: Date;
}

/** Rows → what `docker history` prints for the same flags. */
export function renderHistory(rows: HistoryRow[], opts: HistoryRenderOptions): string {
  const view = historyView(rows, { trunc: opts.trunc, human: opts.human, now: opts.now });
  if (opts.quiet) return view.map((v) => `${v.ID}\n`).join('');
  const fmt = parseListFormat(opts.format);
  if (fmt.kind === 'json') return view.map((v) => `${goJson(v)}\n`).join('');
  const typed = view.map((v) => goValue(v, HISTORY_VIEW));
  if (fmt.kind === 'template') return rows.length ? renderRows(fmt.template, typed) : '';
  const table = fmt.template ?? compileTemplate(historyTableFormat(opts.human).slice('table '.length));
  return renderRows(table, typed, HISTORY_HEADERS);
}

/** `-H=false`, `--human=false`, `-H false`: commander hands the raw value over. */
export function parseHuman(v: unknown): boolean | undefined {
  if (v === undefined || v === true) return true;
  const s = String(v).replace(/^=/, '').toLowerCase();
  if (['true', '1', 't'].includes(s)) return true;
  if (['false', '0', 'f'].includes(s)) return false;
  return undefined;
}

export async function runImageHistory(
  ctx: CommandContext,
  ref: string,
  opts: { trunc: boolean; human: boolean; format?: string },
): Promise<CommandResult> {
  // A bad template fails before the store is opened.
  if (opts.format) parseListFormat(opts.format);
  const store = await openStore(ctx.globals.root);
  const img = await findImage(store, ref);
  const rows = imageHistory({ id: img.id, config: img.config, layerSizes: await layerSizes(img), tags: img.tags.map((t) => familiarReference(parseReference(t))) });
  return { kind: 'text', text: renderHistory(rows, { ...opts, quiet: ctx.globals.quiet, now: ctx.now() }) };
}

export function badHuman(v: unknown): StrataError {
  return new StrataError('USAGE', `invalid argument "${String(v).replace(/^=/, '')}" for "-H, --human" flag: expected true or false`);
}
