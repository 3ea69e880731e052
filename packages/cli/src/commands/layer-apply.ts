// `strata layer apply DIR [-i FILE|-]`: extract a layer tar onto a directory with Docker layer semantics.
import { createReadStream, statSync } from 'node:fs';
import { StrataError } from '@strata/errors';
import { sniffCompression, type Compression } from '@strata/oci';
import { decompress } from '@strata/layer';
import { applyLayer } from '@strata/tar';
import type { CommandContext, CommandResult } from '../runner';

export interface LayerApplyOptions {
  input?: string;
  whiteouts?: string;
}

/** Peek at the first bytes of a stream to detect compression, then hand back the whole stream. */
async function sniffed(src: AsyncIterable<Uint8Array>): Promise<AsyncIterable<Uint8Array>> {
  const it = src[Symbol.asyncIterator]();
  const first = await it.next();
  const head = first.done ? new Uint8Array() : first.value;
  const whole = (async function* () {
    if (!first.done) yield first.value;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  })();
  const c = sniffCompression(head);
  if (c === 'bzip2' || c === 'xz') throw new StrataError('UNSUPPORTED', `${c}-compressed layers are not supported`);
  return decompress(whole, c as Compression);
}

export async function runLayerApply(ctx: CommandContext, dir: string, opts: LayerApplyOptions): Promise<CommandResult> {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new StrataError('NOT_FOUND', `${dir}: not a directory`);
  const mode = opts.whiteouts ?? 'apply';
  if (mode !== 'apply' && mode !== 'overlay' && mode !== 'keep') throw new StrataError('USAGE', `--whiteouts must be apply, overlay or keep, not "${mode}"`);
  const what = ctx.isStd(opts.input) ? 'stdin' : opts.input!;
  const src = ctx.isStd(opts.input) ? (ctx.io.stdin as AsyncIterable<Uint8Array>) : (createReadStream(opts.input!) as AsyncIterable<Uint8Array>);
  const r = await applyLayer(dir, await sniffed(src), { what, whiteouts: mode });
  for (const s of r.skipped) ctx.debug(`skipped: ${s}`);
  ctx.log(`applied ${r.entries} entries (${r.files} files, ${r.bytes} bytes, ${r.whiteouts} whiteouts)${r.skipped.length ? `; ${r.skipped.length} skipped (not root?)` : ''}`);
  return ctx.globals.format === 'json' ? { kind: 'json', value: r } : { kind: 'none' };
}
