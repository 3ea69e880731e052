import { lstatSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { checkPath, loadIgnore } from '@strata/context/walk';
import type { CommandContext, CommandResult } from '../runner';

export interface ContextCheckOptions {
  context?: string;
  file?: string;
  ignoreFile?: string;
  legacy?: boolean;
}

/**
 * `strata context check PATH…`: for each path, included or excluded, and the pattern (file:line)
 * that decided. Exit 1 when any path is excluded.
 */
export async function runContextCheck(ctx: CommandContext, paths: string[], opts: ContextCheckOptions): Promise<CommandResult> {
  const contextDir = resolve(opts.context ?? '.');
  const matcher = loadIgnore(contextDir, opts.file, { ignoreFile: opts.ignoreFile, legacyParentMatching: opts.legacy });
  const records = paths.map((p) => {
    // absolute paths (or ones given from elsewhere) are taken relative to the context
    const rel = isAbsolute(p) ? relative(contextDir, p) : p;
    let isDir = false;
    try {
      isDir = lstatSync(join(contextDir, rel)).isDirectory();
    } catch {
      // a path that does not exist is checked by name alone
    }
    const r = checkPath(matcher, rel, { isDir });
    const by = r.decidedBy;
    return {
      path: r.path,
      result: r.included ? 'included' : 'excluded',
      pattern: by ? `${by.exclusion ? '!' : ''}${by.text}` : null,
      source: by?.line !== undefined ? `${by.source ?? '.dockerignore'}:${by.line}` : null,
      reason: r.prunedAt !== undefined
        ? `directory ${r.prunedAt} is excluded and not entered`
        : r.enteredForExceptions
          ? 'excluded directory, sent because exception patterns name paths under it'
          : by ? 'last matching pattern' : 'no pattern matches',
    };
  });
  return {
    kind: 'records',
    records,
    columns: [
      { header: 'PATH', field: 'path' },
      { header: 'RESULT', field: 'result' },
      { header: 'PATTERN', field: 'pattern' },
      { header: 'WHERE', field: 'source' },
      { header: 'WHY', field: 'reason' },
    ],
    quietField: 'result',
    exitCode: records.some((r) => r.result === 'excluded') ? 1 : 0,
  };
}
