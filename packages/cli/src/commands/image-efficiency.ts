// `strata image efficiency REF [--fail-below RATIO] [--format json]`: dive's efficiency score and
// the bytes that overwritten or deleted files still take in lower layers.
import { StrataError } from '@strata/errors';
import { openStore } from '@strata/image-store';
import { efficiency, humanSize, type EfficiencyReport } from '@strata/inspect';
import type { CommandContext, CommandResult } from '../runner';
import { findImage } from './image-inspect';

export interface EfficiencyOptions {
  failBelow?: string;
  top?: string;
}

export async function imageEfficiency(ctx: CommandContext, ref: string): Promise<EfficiencyReport> {
  const store = await openStore(ctx.globals.root);
  const img = await findImage(store, ref);
  const layers = [];
  for (const layer of img.layers) layers.push(await layer.headers());
  return efficiency(layers);
}

function renderReport(r: EfficiencyReport, top: number): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = [
    `efficiency:   ${pct(r.score)}`,
    `wasted bytes: ${humanSize(r.wastedBytes)} (${pct(r.wastedRatio)} of ${humanSize(r.totalBytes)})`,
  ];
  if (r.paths.length) {
    lines.push('', `${'COUNT'.padEnd(8)}${'WASTED'.padEnd(10)}PATH`);
    for (const p of r.paths.slice(0, top)) lines.push(`${String(p.layers.length).padEnd(8)}${humanSize(p.wastedBytes).padEnd(10)}/${p.path}`);
    if (r.paths.length > top) lines.push(`… ${r.paths.length - top} more (--top N, or --format json)`);
  }
  return `${lines.join('\n')}\n`;
}

export async function runImageEfficiency(ctx: CommandContext, ref: string, opts: EfficiencyOptions): Promise<CommandResult> {
  const failBelow = opts.failBelow === undefined ? undefined : Number(opts.failBelow);
  if (failBelow !== undefined && !(failBelow >= 0 && failBelow <= 1)) throw new StrataError('USAGE', `--fail-below must be a ratio between 0 and 1, not "${opts.failBelow}"`);
  const top = opts.top === undefined ? 20 : Number(opts.top);
  if (!Number.isInteger(top) || top < 0) throw new StrataError('USAGE', `--top must be a whole number, not "${opts.top}"`);
  const report = await imageEfficiency(ctx, ref);
  // Exit 1 = "found something": the image is below the efficiency the caller asked for.
  const exitCode = failBelow !== undefined && report.score < failBelow ? 1 : 0;
  if (ctx.globals.format === 'json') return { kind: 'json', value: report, exitCode };
  return { kind: 'text', text: renderReport(report, top), exitCode };
}
