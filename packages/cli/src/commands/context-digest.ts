import { join, resolve } from 'node:path';
import { digestContext, loadIgnore } from '@strata/context';
import type { CommandContext, CommandResult } from '../runner';

export interface ContextDigestOptions {
  file?: string;
  ignoreFile?: string;
  cache?: boolean;
  path?: string[];
}

/**
 * `strata context digest [DIR]`: the content digest of the context (or of subtrees with --path), as the
 * build cache sees it, using the stat cache in `<root>/context-cache` so unchanged files are not read.
 */
export async function runContextDigest(ctx: CommandContext, dir: string | undefined, opts: ContextDigestOptions): Promise<CommandResult> {
  const contextDir = resolve(dir ?? '.');
  const matcher = loadIgnore(contextDir, opts.file, { ignoreFile: opts.ignoreFile });
  const started = process.hrtime.bigint();
  const r = digestContext(contextDir, { matcher, cacheDir: opts.cache === false ? undefined : join(ctx.globals.root, 'context-cache') });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  ctx.debug(`digested ${r.entries.length} entries in ${ms.toFixed(0)} ms`);
  const paths = opts.path && opts.path.length > 0 ? opts.path : ['.'];
  const records = paths.map((p) => ({
    path: p,
    digest: r.treeDigest(p),
    entries: r.entries.length,
    filesRead: r.filesRead,
    bytesRead: r.bytesRead,
  }));
  return {
    kind: 'records',
    records,
    columns: [
      { header: 'PATH', field: 'path' },
      { header: 'DIGEST', field: 'digest' },
      { header: 'ENTRIES', field: 'entries' },
      { header: 'FILES READ', field: 'filesRead' },
      { header: 'BYTES READ', field: 'bytesRead' },
    ],
    quietField: 'digest',
  };
}
