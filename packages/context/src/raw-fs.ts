import { lstatSync, readdirSync, type Dirent, type Stats } from 'node:fs';
import type { EntryType } from './walk-context';

/**
 * lstat and readdir for the context walk, one layer under `fs.lstatSync` and `fs.readdirSync`.
 *
 * An unchanged rebuild lstats every file of the context. On node 20 `lstatSync` builds a Stats
 * object with four Date objects each time, and `readdirSync({ withFileTypes })` a Dirent per
 * entry; that was a third of the walk and most of its garbage. Node's own fs binding (which those
 * functions call) returns the numbers in a Float64Array and the names with their types in two
 * arrays. It is not a public API, so it is used only after a probe on the context directory
 * gives exactly what the public functions give; otherwise, or with --pending-deprecation (where
 * `process.binding` warns), the public functions are used.
 */
export interface FsBinding {
  lstat(path: string, bigint: false, req: undefined, throwIfNoEntry: false): Float64Array | undefined;
  readdir(path: string, encoding: 'utf8', withFileTypes: true): [string[], number[]];
}

// Indexes into the binding's stat array (node's FsStatsOffset).
const DEV = 0;
const MODE = 1;
const INO = 7;
const SIZE = 8;
const MTIME_S = 12;
const MTIME_NS = 13;
const CTIME_S = 14;
const CTIME_NS = 15;

let binding: FsBinding | null | undefined;

/**
 * Node's fs binding if it passes the probe on `dir` (a directory), else null. Probed once per
 * process; a `dir` that cannot be read is no probe (null, and the next call probes again).
 */
export function fsBinding(dir: string): FsBinding | null {
  if (binding !== undefined) return binding;
  let st: Stats;
  let names: Dirent[];
  try {
    st = lstatSync(dir);
    names = readdirSync(dir, { withFileTypes: true });
  } catch {
    return null;
  }
  binding = probe(dir, st, names);
  return binding;
}

function probe(dir: string, st: Stats, names: Dirent[]): FsBinding | null {
  const pending = process.execArgv.includes('--pending-deprecation') || /--pending-deprecation/.test(process.env.NODE_OPTIONS ?? '');
  const proc = process as unknown as { binding?: (name: string) => unknown };
  if (pending || typeof proc.binding !== 'function') return null;
  try {
    const b = proc.binding('fs') as FsBinding;
    const v = b.lstat(dir, false, undefined, false);
    if (!(v instanceof Float64Array) || v.length < 16) return null;
    if (v[MODE] !== st.mode || v[INO] !== st.ino || v[DEV] !== st.dev || v[SIZE] !== st.size) return null;
    if (v[MTIME_S] * 1e3 + v[MTIME_NS] / 1e6 !== st.mtimeMs || v[CTIME_S] * 1e3 + v[CTIME_NS] / 1e6 !== st.ctimeMs) return null;
    if (b.lstat(`${dir}/.strata-probe-missing-${process.pid}`, false, undefined, false) !== undefined) return null;
    const r = b.readdir(dir, 'utf8', true);
    if (!Array.isArray(r) || !Array.isArray(r[0]) || !Array.isArray(r[1]) || r[0].length !== names.length) return null;
    for (let i = 0; i < names.length; i++) if (r[0][i] !== names[i].name || r[1][i] !== direntCode(names[i])) return null;
    return b;
  } catch {
    return null;
  }
}

function direntCode(d: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): number {
  return d.isFile() ? 1 : d.isDirectory() ? 2 : d.isSymbolicLink() ? 3 : d.isFIFO() ? 4 : d.isSocket() ? 5 : d.isCharacterDevice() ? 6 : d.isBlockDevice() ? 7 : 0;
}

/** libuv's dirent types (UV_DIRENT_*); 0 is unknown (the file system did not say). */
const DIRENT_TYPES: Array<EntryType | undefined> = [undefined, 'file', 'dir', 'symlink', 'fifo', 'socket', 'char', 'block'];

/**
 * The names and types in a directory, unsorted. Throws what readdirSync throws. A type the file
 * system does not report comes back undefined (the caller lstats it).
 */
export function readDirTyped(b: FsBinding | null, abs: string): { names: string[]; types: Array<EntryType | undefined> } {
  if (b !== null) {
    const [names, codes] = b.readdir(abs, 'utf8', true);
    const types = new Array<EntryType | undefined>(names.length);
    for (let i = 0; i < names.length; i++) types[i] = DIRENT_TYPES[codes[i]];
    return { names, types };
  }
  const ents = readdirSync(abs, { withFileTypes: true });
  return { names: ents.map((d) => d.name), types: ents.map((d) => DIRENT_TYPES[direntCode(d)]) };
}

/**
 * lstat `abs` into `out` at `at`: mode (with the type bits), size, mtimeMs, ctimeMs, ino, dev, as
 * `fs.Stats` has them. False, with NaN at `out[at]`, when it is missing or cannot be stat-ed.
 */
export function lstatInto(b: FsBinding | null, abs: string, out: Float64Array, at: number): boolean {
  if (b !== null) {
    let v: Float64Array | undefined;
    try {
      v = b.lstat(abs, false, undefined, false);
    } catch {
      v = undefined;
    }
    if (v === undefined) {
      out[at] = Number.NaN;
      return false;
    }
    out[at] = v[MODE];
    out[at + 1] = v[SIZE];
    out[at + 2] = v[MTIME_S] * 1e3 + v[MTIME_NS] / 1e6;
    out[at + 3] = v[CTIME_S] * 1e3 + v[CTIME_NS] / 1e6;
    out[at + 4] = v[INO];
    out[at + 5] = v[DEV];
    return true;
  }
  let st;
  try {
    st = lstatSync(abs, { throwIfNoEntry: false });
  } catch {
    st = undefined;
  }
  if (st === undefined) {
    out[at] = Number.NaN;
    return false;
  }
  out[at] = st.mode;
  out[at + 1] = st.size;
  out[at + 2] = st.mtimeMs;
  out[at + 3] = st.ctimeMs;
  out[at + 4] = st.ino;
  out[at + 5] = st.dev;
  return true;
}

/**
 * `lstatInto` as source text, for the helper thread (it does not load this module; `lstatSync`
 * from node:fs in scope). A copy, not the compiled function: a function made from this text with
 * `new Function` made the unchanged rebuild ~10 ms slower. The raw-fs and helper tests compare
 * the two threads' rows with the plain walk.
 */
export const LSTAT_INTO_SOURCE = `
function lstatInto(b, abs, out, at) {
  let v;
  try {
    if (b === null) {
      const st = lstatSync(abs, { throwIfNoEntry: false });
      if (st === undefined) {
        out[at] = NaN;
        return false;
      }
      out[at] = st.mode; out[at + 1] = st.size; out[at + 2] = st.mtimeMs; out[at + 3] = st.ctimeMs; out[at + 4] = st.ino; out[at + 5] = st.dev;
      return true;
    }
    v = b.lstat(abs, false, undefined, false);
  } catch {
    v = undefined;
  }
  if (v === undefined) {
    out[at] = NaN;
    return false;
  }
  out[at] = v[${MODE}]; out[at + 1] = v[${SIZE}];
  out[at + 2] = v[${MTIME_S}] * 1e3 + v[${MTIME_NS}] / 1e6; out[at + 3] = v[${CTIME_S}] * 1e3 + v[${CTIME_NS}] / 1e6;
  out[at + 4] = v[${INO}]; out[at + 5] = v[${DEV}];
  return true;
}
`;
