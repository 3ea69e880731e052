// `strata layer create --from DIR_A --to DIR_B [-o FILE|-]`: a layer tar (with whiteouts) that turns A into B.
import { createWriteStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StrataError } from '@strata/errors';
import { Hasher } from '@strata/oci';
import { changeEntries } from '@strata/layer';
import { writeTar } from '@strata/tar';
import { diffViews, directoryView } from '@strata/unionfs';
import type { CommandContext, CommandResult } from '../runner';

export interface LayerCreateOptions {
  from?: string;
  to?: string;
  output?: string;
  sourceDateEpoch?: string;
}

function mustBeDir(flag: string, p: string | undefined): string {
  if (!p) throw new StrataError('USAGE', `${flag} DIR is required`);
  if (!statSync(p, { throwIfNoEntry: false })?.isDirectory()) throw new StrataError('NOT_FOUND', `${flag} ${p}: not a directory`);
  return p;
}

export async function runLayerCreate(ctx: CommandContext, opts: LayerCreateOptions): Promise<CommandResult> {
  const to = mustBeDir('--to', opts.to);
  const changes = [];
  if (opts.from !== undefined) {
    const from = mustBeDir('--from', opts.from);
    // mtime differences alone do not make a change (every copy has new mtimes).
    for await (const c of diffViews(directoryView(from), directoryView(to), { ignore: ['mtime'] })) changes.push(c);
  } else {
    for (const e of directoryView(to).entries()) changes.push({ path: `/${e.path}`, kind: 'add' as const });
  }
  const epoch = opts.sourceDateEpoch ?? ctx.io.env.SOURCE_DATE_EPOCH;
  const clampMtime = epoch !== undefined && epoch !== '' ? Number(epoch) : undefined;
  if (clampMtime !== undefined && !Number.isFinite(clampMtime)) throw new StrataError('USAGE', `SOURCE_DATE_EPOCH must be a number of seconds, not "${epoch}"`);
  const tar = writeTar(changeEntries(to, changes), { clampMtime });
  if (ctx.isStd(opts.output)) return { kind: 'bytes', stream: tar };
  const h = new Hasher();
  await pipeline(
    Readable.from(
      (async function* () {
        for await (const c of tar) {
          h.update(c);
          yield c;
        }
      })(),
    ),
    createWriteStream(opts.output!),
  );
  ctx.log(`${h.digest()} ${changes.length} changes`);
  return { kind: 'none' };
}
