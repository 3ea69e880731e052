// `strata layer ls REF [--files] [--layer N]`
import { statSync } from 'node:fs';
import { StrataError } from '@strata/errors';
import { shortId } from '@strata/oci';
import { indexTarFile, parseWhiteout } from '@strata/tar';
import { unionView } from '@strata/unionfs';
import type { CommandContext, CommandResult } from '../runner';
import { humanSize } from '../table';
import { entryRecord, FILE_COLUMNS } from './layer-format';
import { layerHistory, resolveImage, scratch } from './layer-sources';

export interface LayerLsOptions {
  files?: boolean;
  layer?: string;
}

export async function runLayerLs(ctx: CommandContext, ref: string, opts: LayerLsOptions): Promise<CommandResult> {
  const tmp = scratch();
  try {
    const img = await resolveImage(ctx.globals.root, ref, tmp);
    let n: number | undefined;
    if (opts.layer !== undefined) {
      n = Number(opts.layer);
      if (!Number.isInteger(n) || n < 0 || n >= img.layers.length) {
        throw new StrataError('USAGE', `--layer must be between 0 and ${img.layers.length - 1} (the image has ${img.layers.length} layers)`);
      }
    }
    if (opts.files) {
      const records: Array<Record<string, unknown>> = [];
      if (n !== undefined) {
        const l = img.layers[n];
        for (const e of indexTarFile(l.path!, { what: `layer ${n}` })) {
          const wo = parseWhiteout(e.path);
          if (wo?.kind === 'whiteout') records.push({ path: `/${wo.target}`, change: 'D' });
          else if (wo?.kind === 'opaque') records.push({ ...entryRecord({ ...e, path: wo.dir, type: 'dir' }), opaque: true });
          else if (!wo) records.push(entryRecord(e));
        }
      } else {
        const view = await unionView(img.layers);
        for (const e of view.entries()) records.push(entryRecord(e));
      }
      return { kind: 'records', records, columns: FILE_COLUMNS, quietField: 'path' };
    }
    if (n !== undefined) throw new StrataError('USAGE', '--layer goes with --files');
    const history = layerHistory(img.config, img.layers.length);
    const records: Array<Record<string, unknown>> = [];
    for (const [i, l] of img.layers.entries()) {
      let files = 0;
      let whiteouts = 0;
      for (const e of indexTarFile(l.path!, { what: `layer ${i}` })) {
        if (parseWhiteout(e.path)) whiteouts++;
        else if (e.path !== '.') files++;
      }
      records.push({ index: i, diffId: l.diffId, size: statSync(l.path!).size, files, whiteouts, createdBy: history[i] ?? '' });
    }
    return {
      kind: 'records',
      records,
      quietField: 'diffId',
      columns: [
        { header: 'INDEX', field: 'index' },
        { header: 'DIFF ID', field: (r) => shortId(String(r.diffId ?? '')) },
        { header: 'SIZE', field: (r) => humanSize(Number(r.size)) },
        { header: 'FILES', field: (r) => (Number(r.whiteouts) ? `${r.files} (-${r.whiteouts})` : r.files) },
        { header: 'CREATED BY', field: (r) => String(r.createdBy).replace(/\s+/g, ' ').slice(0, 80) },
      ],
    };
  } finally {
    tmp.cleanup();
  }
}
