import { resolve } from 'node:path';
import { loadIgnore, visitContext, visitContextNames, type EntryType } from '@strata/context/walk';
import { OutputBuffer, type CommandContext, type CommandResult } from '../runner';

export interface ContextLsOptions {
  file?: string;
  ignoreFile?: string;
  summary?: boolean;
  legacy?: boolean;
}

/** `strata context ls [DIR]`: every path `COPY . /dest` would see, sorted, directories with a trailing `/`. */
export async function runContextLs(ctx: CommandContext, dir: string | undefined, opts: ContextLsOptions): Promise<CommandResult> {
  const contextDir = resolve(dir ?? '.');
  const matcher = loadIgnore(contextDir, opts.file, { ignoreFile: opts.ignoreFile, legacyParentMatching: opts.legacy });
  ctx.debug(matcher.file ? `ignore file: ${matcher.file} (${matcher.patterns.length} patterns)` : 'no ignore file');
  const walkOpts = { matcher, checkReadable: true };

  if (opts.summary) {
    const counts: Record<EntryType, number> = { file: 0, dir: 0, symlink: 0, fifo: 0, socket: 0, char: 0, block: 0 };
    let bytes = 0;
    visitContext(contextDir, walkOpts, (e) => {
      counts[e.type]++;
      bytes += e.size;
    });
    const other = counts.fifo + counts.socket + counts.char + counts.block;
    const total = counts.file + counts.dir + counts.symlink + other;
    const summary = { entries: total, files: counts.file, dirs: counts.dir, symlinks: counts.symlink, other, bytes, ignoreFile: matcher.file ?? null };
    if (ctx.globals.format === 'json') return { kind: 'json', value: summary };
    return {
      kind: 'text',
      text: `${total} entries: ${counts.file} files, ${counts.dir} directories, ${counts.symlink} symlinks, ${other} other; ${bytes} bytes${matcher.file ? ` (ignore file ${matcher.file})` : ''}`,
    };
  }

  if (ctx.globals.format === 'json') {
    const records: Array<Record<string, unknown>> = [];
    visitContext(contextDir, walkOpts, (e) => {
      const r: Record<string, unknown> = { path: e.path, type: e.type, mode: `0${e.mode.toString(8)}`, uid: e.uid, gid: e.gid, size: e.size, mtime: new Date(e.mtimeMs).toISOString() };
      if (e.linkname !== undefined) r.linkname = e.linkname;
      records.push(r);
    });
    return { kind: 'records', records };
  }
  // Streamed as the walk goes: a listing can be 100k lines. An error part-way (an unreadable file)
  // leaves the lines before it on stdout, as find and ls do.
  const out = new OutputBuffer(ctx.io.stdout);
  visitContextNames(contextDir, walkOpts, (path, type) => out.write(type === 'dir' ? `${path}/\n` : `${path}\n`));
  await out.flush();
  return { kind: 'none' };
}
