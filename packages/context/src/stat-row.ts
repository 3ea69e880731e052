import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import type { EntryType } from './walk-context';

/** Numbers kept per entry in a stat row: mode (with the type bits), size, mtimeMs, ctimeMs, ino, dev, nlink. */
export const STAT_FIELDS = 7;

/**
 * lstat `abs` into `out` at `at`, as `fs.Stats` has the fields. False, with NaN at `out[at]`,
 * when it is missing or cannot be stat-ed.
 */
export function lstatInto(abs: string, out: Float64Array, at: number): boolean {
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
  out[at + 6] = st.nlink;
  return true;
}

function kindOfDirent(d: Dirent): EntryType | undefined {
  return d.isFile() ? 'file' : d.isDirectory() ? 'dir' : d.isSymbolicLink() ? 'symlink' : d.isFIFO() ? 'fifo' : d.isSocket() ? 'socket' : d.isCharacterDevice() ? 'char' : d.isBlockDevice() ? 'block' : undefined;
}

/**
 * The names and kinds in a directory, unsorted. Throws what readdirSync throws. A kind the file
 * system does not report comes back undefined (the caller lstats it).
 */
export function readDirTyped(abs: string): { names: string[]; types: Array<EntryType | undefined> } {
  const ents = readdirSync(abs, { withFileTypes: true });
  const names = new Array<string>(ents.length);
  const types = new Array<EntryType | undefined>(ents.length);
  for (let i = 0; i < ents.length; i++) {
    names[i] = ents[i].name;
    types[i] = kindOfDirent(ents[i]);
  }
  return { names, types };
}
