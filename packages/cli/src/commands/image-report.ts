// `strata image report REF -o report.html`: one self-contained HTML page about the image (dive's
// figures, the treemap, a bar per layer, the inefficient files, history, config); `--svg` writes
// the treemap alone. REF as for `image efficiency` (store, docker-archive:, oci:).
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { imageModel, renderHtmlReport, renderTreemapSvg } from '@strata/report';
import { action, collect, type CommandContext, type CommandResult, type Io } from '../runner';
import { excludeMatcher, openAnalysisInput } from './image-efficiency';

export interface ReportOptions {
  output?: string;
  svg?: boolean;
  exclude?: string[];
}

export async function run(ctx: CommandContext, ref: string, opts: ReportOptions): Promise<CommandResult> {
  if (!opts.output) throw new StrataError('USAGE', 'image report needs -o FILE (or -o - for stdout)');
  const src = await openAnalysisInput(ctx, ref);
  let text: string;
  try {
    const model = await imageModel(
      { name: ref, id: src.id, config: src.config, layers: src.input.layers.map((l, i) => ({ diffId: l.diffId, source: src.sources[i] })) },
      { exclude: excludeMatcher(opts.exclude) },
    );
    text = opts.svg ? renderTreemapSvg(model) : renderHtmlReport(model);
  } finally {
    await src.close();
  }
  if (ctx.isStd(opts.output)) return { kind: 'text', text };
  await writeFile(opts.output, text);
  ctx.log(`wrote ${opts.output}`);
  return { kind: 'none' };
}

export function register(image: Command, io: Io): void {
  image
    .command('report')
    .description('a self-contained HTML report of what takes space in an image (treemap, layers, wasted files, history)')
    .argument('<ref>', 'image reference or ID, docker-archive:FILE[:REF] or oci:DIR[:REF]')
    .requiredOption('-o, --output <file>', 'where to write the report (- for stdout)')
    .option('--svg', 'write the treemap alone, as an SVG document')
    .option('--exclude <glob>', 'leave paths matching GLOB out of the efficiency figures (repeatable)', collect, [])
    .action(action(io, (ctx, ref: string, opts: ReportOptions) => run(ctx, ref, opts)));
}
