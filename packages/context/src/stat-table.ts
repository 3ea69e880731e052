import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { StrataError, wrapError } from '@strata/errors';
import { lstatInto, STAT_FIELDS } from './stat-row';
import { openWalkCache } from './walk-cache';
import { typeOfMode, walkNames, type WalkOptions } from './walk-context';

export { STAT_FIELDS };

/**
 * The included entries of a context with their lstat data, as columns rather than one object per
 * entry: an unchanged rebuild looks at every file of the context and keeps nothing else of it.
 */
export interface ContextTable {
  /** Absolute context directory. */
  readonly root: string;
  /** Relative paths in walk order (sorted, parents before children). */
  readonly paths: string[];
  /** `STAT_FIELDS` numbers per entry (mode, size, mtimeMs, ctimeMs, ino, dev, nlink), in the order of `paths`. */
  readonly stats: Float64Array;
  /** Symlink targets by entry index. */
  readonly linknames: Map<number, string>;
  /** `paths` joined with NUL, when the walk had that at hand (the stored paths of the last walk). */
  readonly pathsText?: string;
  /** Directories read from disk for this table: 0 when the walk cache showed that none changed. */
  readonly dirsRead: number;
}

/** lstat `root/<path>` for every path: one row of `STAT_FIELDS` numbers each (NaN first when it cannot be stat-ed). */
function lstatAll(root: string, paths: readonly string[]): Float64Array {
  const stats = new Float64Array(paths.length * STAT_FIELDS);
  for (let i = 0; i < paths.length; i++) lstatInto(`${root}/${paths[i]}`, stats, i * STAT_FIELDS);
  return stats;
}

/**
 * The walk of `visitContext` as a table: names first (readdir and .dockerignore), then one lstat
 * per entry (public fs calls only: see the measurement in packages/context/README.md). With a walk cache
 * file, the paths of the last walk come first: they are lstat-ed, and if no directory changed they
 * are the answer; otherwise only the changed directories are read again.
 */
export function statContext(contextDir: string, options: WalkOptions, extra: { walkCacheFile?: string } = {}): ContextTable {
  const root = resolve(contextDir);
  const cache = extra.walkCacheFile !== undefined && options.checkReadable !== true ? openWalkCache(extra.walkCacheFile) : undefined;
  const key = `${options.under ?? ''}\n${options.matcher?.key ?? ''}`;
  // The paths of the last walk: if no directory changed since, they are the paths a walk would
  // find now, and no directory is read.
  const last = cache?.lastWalk(key);
  const lastStats = last !== undefined ? lstatAll(root, last.paths) : undefined;
  let found: { paths: string[]; stats: Float64Array; pathsText?: string; dirsRead: number };
  if (last !== undefined && lastStats !== undefined && last.isCurrent(lastStats, STAT_FIELDS, root)) {
    found = { paths: last.paths, stats: lastStats, pathsText: last.pathsText, dirsRead: 0 };
  } else {
    const paths: string[] = [];
    walkNames(contextDir, { ...options, cache }, (rel) => {
      paths.push(rel);
    });
    cache?.save(key, paths);
    const stats = last !== undefined && lastStats !== undefined ? restat(root, paths, { paths: last.paths, stats: lastStats }) : lstatAll(root, paths);
    found = { paths, stats, dirsRead: cache !== undefined ? cache.dirsRead : countDirs(stats) + 1 };
  }
  const { paths, stats } = found;
  const linknames = new Map<number, string>();
  for (let i = 0; i < paths.length; i++) {
    const at = i * STAT_FIELDS;
    if (Number.isNaN(stats[at])) {
      // gone since it was listed, or not stat-able: the error of the public lstat, or the entry if it is back
      let st: Stats;
      try {
        st = lstatSync(`${root}/${paths[i]}`);
      } catch (err) {
        return wrapError(err, `cannot stat context entry ${paths[i]}`);
      }
      stats.set([st.mode, st.size, st.mtimeMs, st.ctimeMs, st.ino, st.dev, st.nlink], at);
    }
    if (typeOfMode(stats[at]) === 'symlink') {
      try {
        linknames.set(i, readlinkSync(`${root}/${paths[i]}`));
      } catch (err) {
        // EINVAL: no longer a symlink (replaced since it was stat-ed)
        if ((err as NodeJS.ErrnoException).code === 'EINVAL') throw new StrataError('IO_ERROR', `context entry ${paths[i]} changed while it was read (it is no longer a symlink)`);
        return wrapError(err, `cannot read the symlink ${paths[i]} of the context`);
      }
    }
  }
  return { root, paths, stats, linknames, pathsText: found.pathsText, dirsRead: found.dirsRead };
}

function countDirs(stats: Float64Array): number {
  let n = 0;
  for (let at = 0; at < stats.length; at += STAT_FIELDS) if (typeOfMode(stats[at]) === 'dir') n++;
  return n;
}

/** lstat rows for `paths`, taking those of `before` (just taken) for the paths it has. */
function restat(root: string, paths: readonly string[], before: { paths: readonly string[]; stats: Float64Array }): Float64Array {
  const F = STAT_FIELDS;
  const index = new Map<string, number>();
  for (let i = 0; i < before.paths.length; i++) index.set(before.paths[i], i);
  const stats = new Float64Array(paths.length * F);
  for (let i = 0; i < paths.length; i++) {
    const j = index.get(paths[i]);
    if (j !== undefined && !Number.isNaN(before.stats[j * F])) stats.set(before.stats.subarray(j * F, j * F + F), i * F);
    else lstatInto(`${root}/${paths[i]}`, stats, i * F);
  }
  return stats;
}
