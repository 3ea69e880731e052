import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { wrapError } from '@strata/errors';
import { fsBinding, lstatInto, LSTAT_INTO_SOURCE } from './raw-fs';
import { openWalkCache } from './walk-cache';
import { typeOfMode, walkNames, type WalkOptions } from './walk-context';

/** Numbers kept per entry in `ContextTable.stats`: mode (with the type bits), size, mtimeMs, ctimeMs, ino, dev. */
export const STAT_FIELDS = 6;

/**
 * The included entries of a context with their lstat data, as columns rather than one object per
 * entry: an unchanged rebuild looks at every file of the context and keeps nothing else of it.
 */
export interface ContextTable {
  /** Absolute context directory. */
  readonly root: string;
  /** Relative paths in walk order (sorted, parents before children). */
  readonly paths: string[];
  /** `STAT_FIELDS` numbers per entry, in the order of `paths`. */
  readonly stats: Float64Array;
  /** Symlink targets by entry index. */
  readonly linknames: Map<number, string>;
  /** `paths` joined with NUL, when the walk had that at hand (the stored paths of the last walk). */
  readonly pathsText?: string;
  /** Directories read from disk for this table: 0 when the walk cache showed that none changed. */
  readonly dirsRead: number;
}

// Entries a thread claims at a time, and the sizes below which a second thread is not worth it.
const CHUNK = 256;
const MIN_PARALLEL = 2048;

// The helper thread: lstat the chunks it claims until none are left. Plain JS run with
// `eval: true`, so starting it loads only node's own modules, not the strata bundle.
const HELPER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { lstatSync } = require('node:fs');
${LSTAT_INTO_SOURCE}
parentPort.once('message', (job) => {
  const { root, joined, n, raw, stats, ctrl, chunkDone, chunk, fields } = job;
  const b = raw ? process.binding('fs') : null;
  const paths = joined.split('\\0');
  const out = new Float64Array(stats);
  const c = new Int32Array(ctrl);
  const flags = new Uint8Array(chunkDone);
  for (;;) {
    const start = Atomics.add(c, 0, chunk);
    if (start >= n) break;
    const end = Math.min(n, start + chunk);
    for (let i = start; i < end; i++) lstatInto(b, root + '/' + paths[i], out, i * fields);
    Atomics.store(flags, start / chunk, 1);
    Atomics.add(c, 1, end - start);
    Atomics.notify(c, 1);
  }
  parentPort.close();
});
`;

/**
 * A second thread for `statContext`, started before it is needed: a thread takes ~35 ms to boot
 * here. The CLI launcher starts one before it loads the bundle (`takeSpareThread`); otherwise the
 * build starts one when it begins, so the boot overlaps with reading the Dockerfile. It exits
 * after one job; `close` stops it if it never got one.
 */
export interface LstatHelper {
  /** @internal */ readonly worker: Worker;
  close(): void;
}

const SPARE = Symbol.for('strata.spare-thread');

/**
 * The thread the CLI launcher started before loading the bundle (it evaluates the first source it
 * is sent), given the helper's source; once.
 */
function takeSpareThread(): Worker | undefined {
  const g = globalThis as { [SPARE]?: Worker };
  const spare = g[SPARE];
  if (spare === undefined) return undefined;
  delete g[SPARE];
  spare.postMessage({ source: HELPER_SOURCE });
  return spare;
}

/** The launcher's spare thread when the build will not use it: ended now, not at exit (it holds a V8 heap). */
export function releaseSpareThread(): void {
  const g = globalThis as { [SPARE]?: Worker };
  const spare = g[SPARE];
  if (spare === undefined) return;
  delete g[SPARE];
  void spare.terminate();
}

export function startLstatHelper(): LstatHelper | undefined {
  let worker: Worker;
  try {
    worker = takeSpareThread() ?? new Worker(HELPER_SOURCE, { eval: true, stdout: false, stderr: false });
  } catch {
    return undefined; // no threads here: the walk runs on one
  }
  worker.unref();
  worker.on('error', () => undefined);
  return {
    worker,
    close() {
      void worker.terminate();
    },
  };
}

/**
 * lstat `root/<path>` for every path into `stats`, sharing the work with `helper` when there is one
 * (`joined`: the paths joined with NUL, when the caller has that already).
 */
function lstatAll(root: string, paths: readonly string[], helper: LstatHelper | undefined, joined?: string): Float64Array {
  const n = paths.length;
  const F = STAT_FIELDS;
  const b = fsBinding(root);
  // rows [from, to) into `out` (NaN in the first field of an entry that cannot be stat-ed)
  const fill = (from: number, to: number, out: Float64Array) => {
    for (let i = from; i < to; i++) lstatInto(b, `${root}/${paths[i]}`, out, i * F);
  };
  if (helper === undefined || n < MIN_PARALLEL) {
    const stats = new Float64Array(n * F);
    fill(0, n, stats);
    return stats;
  }
  const chunks = Math.ceil(n / CHUNK);
  const statsBuf = new SharedArrayBuffer(n * F * 8);
  const ctrlBuf = new SharedArrayBuffer(8);
  const doneBuf = new SharedArrayBuffer(chunks);
  const stats = new Float64Array(statsBuf);
  const ctrl = new Int32Array(ctrlBuf);
  const flags = new Uint8Array(doneBuf);
  try {
    helper.worker.postMessage({ root, joined: joined ?? paths.join('\0'), n, raw: b !== null, stats: statsBuf, ctrl: ctrlBuf, chunkDone: doneBuf, chunk: CHUNK, fields: F });
  } catch {
    // the helper is gone: this thread claims every chunk below
  }
  for (;;) {
    const start = Atomics.add(ctrl, 0, CHUNK);
    if (start >= n) break;
    const end = Math.min(n, start + CHUNK);
    fill(start, end, stats);
    flags[start / CHUNK] = 1;
    Atomics.add(ctrl, 1, end - start);
  }
  // Wait for the chunks the helper claimed. A chunk is ~1 ms of work; if the helper makes no
  // progress for a second (it died, or a file system is that slow), this thread does what it left
  // and returns a copy, so that rows the helper may still write do not change under the build.
  let done = Atomics.load(ctrl, 1);
  while (done < n) {
    if (Atomics.wait(ctrl, 1, done, 1000) === 'timed-out' && Atomics.load(ctrl, 1) === done) {
      const own = stats.slice();
      for (let c = 0; c < chunks; c++) {
        if (Atomics.load(flags, c) === 1) continue;
        fill(c * CHUNK, Math.min(n, (c + 1) * CHUNK), own);
      }
      return own;
    }
    done = Atomics.load(ctrl, 1);
  }
  return stats;
}

/**
 * The walk of `visitContext` as a table: names first (readdir and .dockerignore), then one lstat
 * per entry, on two threads when a helper was started and the context is large. With a walk cache
 * file, the paths of the last walk come first: they are lstat-ed, and if no directory changed they
 * are the answer; otherwise only the changed directories are read again.
 */
export function statContext(contextDir: string, options: WalkOptions, extra: { helper?: LstatHelper; walkCacheFile?: string } = {}): ContextTable {
  const root = resolve(contextDir);
  const cache = extra.walkCacheFile !== undefined && options.checkReadable !== true ? openWalkCache(extra.walkCacheFile, fsBinding(root)) : undefined;
  const key = `${options.under ?? ''}\n${options.matcher?.key ?? ''}`;
  // The paths of the last walk: if no directory changed since, they are the paths a walk would
  // find now, and no directory is read.
  const last = cache?.lastWalk(key);
  const lastStats = last !== undefined ? lstatAll(root, last.paths, extra.helper, last.pathsText) : undefined;
  let found: { paths: string[]; stats: Float64Array; pathsText?: string; dirsRead: number };
  if (last !== undefined && lastStats !== undefined && last.isCurrent(lastStats, STAT_FIELDS, root)) {
    found = { paths: last.paths, stats: lastStats, pathsText: last.pathsText, dirsRead: 0 };
  } else {
    const paths: string[] = [];
    walkNames(contextDir, { ...options, cache }, (rel) => {
      paths.push(rel);
    });
    cache?.save(key, paths);
    const stats = last !== undefined && lastStats !== undefined ? restat(root, paths, { paths: last.paths, stats: lastStats }) : lstatAll(root, paths, extra.helper);
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
      stats.set([st.mode, st.size, st.mtimeMs, st.ctimeMs, st.ino, st.dev], at);
    }
    if (typeOfMode(stats[at]) === 'symlink') linknames.set(i, readlinkSync(`${root}/${paths[i]}`));
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
  const b = fsBinding(root);
  const stats = new Float64Array(paths.length * F);
  for (let i = 0; i < paths.length; i++) {
    const j = index.get(paths[i]);
    if (j !== undefined && !Number.isNaN(before.stats[j * F])) stats.set(before.stats.subarray(j * F, j * F + F), i * F);
    else lstatInto(b, `${root}/${paths[i]}`, stats, i * F);
  }
  return stats;
}
