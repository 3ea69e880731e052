import type { Matcher, Pattern } from '@strata/dockerignore';
import { goClean } from '@strata/dockerignore';
import { StrataError } from '@strata/errors';

export interface PathCheck {
  /** The path as checked: cleaned, relative to the context, `/`-separated. */
  path: string;
  /** Would the build context contain it (if it exists)? */
  included: boolean;
  /** The last pattern that matched the path or a parent; for a pruned path, the one that excluded the directory. */
  decidedBy?: Pattern;
  /** Set when an excluded ancestor directory is never entered by the walk. */
  prunedAt?: string;
  /** An excluded directory (`isDir`) that the walk still enters and sends, because exceptions name paths under it. */
  enteredForExceptions?: boolean;
}

/**
 * Answer for one path what the context walk would do, including Docker's pruning: a path under an
 * excluded directory that no exception pattern names is not sent, even when a wildcard exception
 * (`!**\/*.py`) matches it.
 */
export function checkPath(matcher: Matcher, input: string, options: { isDir?: boolean } = {}): PathCheck {
  const path = goClean(input.replace(/\\/g, '/')).replace(/^\/+/, '');
  if (path === '.' || path === '' ) return { path: '.', included: true };
  if (path === '..' || path.startsWith('../')) throw new StrataError('UNSAFE_PATH', `${input} is outside the context`);
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join('/');
    const r = matcher.explain(dir);
    if (r.excluded && matcher.canSkipDir(dir)) return { path, included: false, decidedBy: r.decidedBy, prunedAt: dir };
  }
  const r = matcher.explain(path);
  // an excluded directory that exception patterns name paths under is entered, and sent itself
  if (r.excluded && options.isDir === true && !matcher.canSkipDir(path)) return { path, included: true, decidedBy: r.decidedBy, enteredForExceptions: true };
  return { path, included: !r.excluded, decidedBy: r.decidedBy };
}
