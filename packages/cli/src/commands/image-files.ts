// `strata image files REF [PATH] [-R]`: list a directory of the merged view.
import { StrataError } from '@strata/errors';
import { cleanPath } from '@strata/tar';
import { unionView } from '@strata/unionfs';
import type { CommandContext, CommandResult } from '../runner';
import { entryRecord, FILE_COLUMNS } from './layer-format';
import { resolveImage, scratch } from './layer-sources';

export interface ImageFilesOptions {
  recursive?: boolean;
}

export async function runImageFiles(ctx: CommandContext, ref: string, path: string | undefined, opts: ImageFilesOptions): Promise<CommandResult> {
  const tmp = scratch();
  try {
    const img = await resolveImage(ctx.globals.root, ref, tmp);
    const view = await unionView(img.layers);
    const rel = cleanPath(path ?? '/');
    const e = view.stat(rel);
    if (!e) throw new StrataError('NOT_FOUND', `${path}: no such file or directory in ${ref}`);
    const records: Array<Record<string, unknown>> = [];
    if (e.type !== 'dir') records.push(entryRecord(e));
    else if (opts.recursive) {
      for (const x of view.entries()) if (rel === '.' || x.path.startsWith(`${rel}/`)) records.push(entryRecord(x));
    } else {
      for (const name of view.readdir(rel) ?? []) records.push(entryRecord(view.stat(rel === '.' ? name : `${rel}/${name}`)!));
    }
    return { kind: 'records', records, columns: FILE_COLUMNS, quietField: 'path' };
  } finally {
    tmp.cleanup();
  }
}
