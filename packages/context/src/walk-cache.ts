import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileSystemNow } from './fs-clock';
import { lstatInto, STAT_FIELDS } from './stat-row';
import { RACY_WINDOW_MS } from './stat-cache';
import { typeOfMode, type EntryType } from './walk-context';

/**
 * The directory listings of the last walk of a context, so the next walk reads no directory that
 * did not change (git's untracked cache does the same). A directory's mtime and ctime change
 * whenever an entry is created, removed or renamed in it (POSIX), so a listing is reused when the
 * directory's inode, device, mtime and ctime are as they were when it was read, and it had not
 * changed within `RACY_WINDOW_MS` before it was read (a change in the same timestamp tick as the
 * read would not show; "when it was read" on the file system's clock, the one its mtime comes from). The listings are raw (before .dockerignore), so they serve any patterns.
 * The files themselves are still lstat-ed on every walk: a change to a file's bytes shows only there.
 */
export interface WalkCache {
  /** The sorted names and kinds in `abs` (`rel` in the context), from the cache when still valid. */
  list(abs: string, rel: string, read: () => { names: string[]; types: EntryType[] }): { names: string[]; types: EntryType[] };
  /**
   * The paths the last walk with the same `key` (patterns and options) found, with what its
   * directories looked like when they were read: if every directory is still as it was (`isCurrent`),
   * a walk now would find the same paths.
   */
  lastWalk(key: string): LastWalk | undefined;
  /**
   * After a walk: write its paths (under `key`), and the listings if any directory was read from
   * disk. Atomic; a failure to write is ignored (the next walk reads the directories again).
   */
  save(key: string, paths: readonly string[]): void;
  /** Directories whose listing was read from disk so far (not taken from the cache). */
  readonly dirsRead: number;
}

export interface LastWalk {
  readonly paths: string[];
  /** `paths` joined with NUL, as stored. */
  readonly pathsText: string;
  /**
   * Given a fresh lstat row (`STAT_FIELDS` numbers per path, in the order of `paths`), and the
   * context directory's own `stat`: did no directory change since it was listed?
   */
  isCurrent(stats: Float64Array, fields: number, rootAbs: string): boolean;
}

const VERSION = 'strata-walk-cache v1';
const KIND_OF: Record<string, EntryType> = { f: 'file', d: 'dir', l: 'symlink', p: 'fifo', s: 'socket', c: 'char', b: 'block' };
const CODE_OF: Record<EntryType, string> = { file: 'f', dir: 'd', symlink: 'l', fifo: 'p', socket: 's', char: 'c', block: 'b' };

interface Listing {
  /** mtimeMs, ctimeMs, ino, dev of the directory when it was read, and when (ms since epoch, file system clock). */
  row: [number, number, number, number];
  readAt: number;
  names: string[];
  kinds: string;
}

/**
 * The walk cache in `file`. Format: the version line, then per directory, NUL-separated: its
 * relative path, `mtimeMs ctimeMs ino dev readAt`, one kind letter per entry, then the names
 * (file names hold neither NUL nor `/`). Anything unreadable is treated as no cache.
 */
export function openWalkCache(file: string): WalkCache {
  let loaded: Map<string, Listing> | undefined;
  const listings = (): Map<string, Listing> => (loaded ??= readListings(file));
  const now = new Map<string, Listing>();
  let dirsRead = 0;
  let readAt: number | undefined;
  const st = new Float64Array(STAT_FIELDS);
  const listFile = file.replace(/(\.walk)?$/, '.list');
  return {
    list(abs, rel, read) {
      const old = listings();
      // the directory's own lstat before its listing: a change after this shows as a newer mtime
      // next time (the context directory itself is followed if it is a symlink)
      const ok = rel === '' ? statRoot(abs, st) : lstatInto(abs, st, 0);
      const row: [number, number, number, number] = [st[2], st[3], st[4], st[5]];
      const prev = old.get(rel);
      if (ok && prev !== undefined && sameRow(prev.row, row) && fresh(prev)) {
        now.set(rel, prev);
        const types = new Array<EntryType>(prev.kinds.length);
        for (let i = 0; i < types.length; i++) types[i] = KIND_OF[prev.kinds[i]];
        return { names: prev.names, types };
      }
      // When this walk began to read directories, on the file system's clock: taken after this
      // directory's lstat, but microseconds after (far inside the window), and before every later one.
      readAt ??= fileSystemNow(dirname(file));
      const r = read();
      dirsRead++;
      let kinds = '';
      for (const t of r.types) kinds += CODE_OF[t];
      // Every directory walked is recorded (the last walk's paths are checked against these rows);
      // one whose lstat failed gets a row that matches nothing, so it is never trusted.
      now.set(rel, ok ? { row, readAt, names: r.names, kinds } : { row: [-1, -1, -1, -1], readAt: 0, names: r.names, kinds });
      return r;
    },
    get dirsRead() {
      return dirsRead;
    },
    lastWalk(key) {
      return readLastWalk(listFile, key);
    },
    save(key, paths) {
      if (dirsRead > 0) {
        const parts: string[] = [];
        for (const [rel, l] of now) {
          parts.push(rel, `${l.row.join(' ')} ${l.readAt}`, l.kinds);
          for (const name of l.names) parts.push(name); // a loop: one directory can hold 100k names
        }
        writeAtomic(file, `${VERSION}\n${parts.join('\0')}`);
      }
      writeAtomic(listFile, lastWalkBytes(key, paths, now));
    },
  };
}

function sameRow(a: readonly number[], b: readonly number[]): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

/** Not racy: the directory had not changed within the window before it was read. */
function fresh(l: { row: readonly number[]; readAt: number }): boolean {
  return Math.max(l.row[0], l.row[1]) + RACY_WINDOW_MS < l.readAt;
}

function statRoot(abs: string, out: Float64Array): boolean {
  const s = statSync(abs, { throwIfNoEntry: false });
  if (s === undefined) return false;
  out[2] = s.mtimeMs;
  out[3] = s.ctimeMs;
  out[4] = s.ino;
  out[5] = s.dev;
  return true;
}

function writeAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was written
    }
  }
}

const LIST_VERSION = 'strata-walk-list v1';
const HEADER_BYTES = 128;
// a directory's row in the list file: mtimeMs, ctimeMs, ino, dev, readAt
const ROW = 5;

/**
 * The list file: a 128-byte ASCII header (version, sha256 of the key, number of directories and
 * of paths, byte length of the paths), then the rows (the context directory's first, then each
 * listed directory's) as float64, the directories' indexes into the paths as int32, and the
 * paths, UTF-8, NUL-separated.
 */
function lastWalkBytes(key: string, paths: readonly string[], now: Map<string, Listing>): Uint8Array {
  const dirs: number[] = [];
  for (let i = 0; i < paths.length; i++) if (now.has(paths[i])) dirs.push(i);
  const rows = new Float64Array((dirs.length + 1) * ROW).fill(Number.NaN);
  const put = (k: number, l: Listing | undefined) => {
    if (l === undefined) return;
    rows.set([...l.row, l.readAt], k * ROW);
  };
  put(0, now.get(''));
  dirs.forEach((i, k) => put(k + 1, now.get(paths[i])));
  const text = Buffer.from(paths.join('\0'), 'utf8');
  const header = `${LIST_VERSION} ${createHash('sha256').update(key).digest('hex')} ${dirs.length} ${paths.length} ${text.length}`;
  const out = Buffer.alloc(HEADER_BYTES + rows.byteLength + dirs.length * 4 + text.length, 0x20);
  out.write(header, 0, 'latin1');
  out[HEADER_BYTES - 1] = 0x0a;
  Buffer.from(rows.buffer).copy(out, HEADER_BYTES);
  Buffer.from(Int32Array.from(dirs).buffer).copy(out, HEADER_BYTES + rows.byteLength);
  text.copy(out, HEADER_BYTES + rows.byteLength + dirs.length * 4);
  return out;
}

function readLastWalk(file: string, key: string): LastWalk | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    return undefined;
  }
  const head = buf.toString('latin1', 0, Math.min(buf.length, HEADER_BYTES)).trimEnd().split(' ');
  if (head.length !== 6 || `${head[0]} ${head[1]}` !== LIST_VERSION || head[2] !== createHash('sha256').update(key).digest('hex')) return undefined;
  const nDirs = Number(head[3]);
  const nPaths = Number(head[4]);
  const textBytes = Number(head[5]);
  const rowBytes = (nDirs + 1) * ROW * 8;
  if (![nDirs, nPaths, textBytes].every(Number.isSafeInteger) || buf.length !== HEADER_BYTES + rowBytes + nDirs * 4 + textBytes) return undefined;
  const rows = new Float64Array(buf.buffer.slice(buf.byteOffset + HEADER_BYTES, buf.byteOffset + HEADER_BYTES + rowBytes));
  const dirs = new Int32Array(buf.buffer.slice(buf.byteOffset + HEADER_BYTES + rowBytes, buf.byteOffset + HEADER_BYTES + rowBytes + nDirs * 4));
  const pathsText = buf.toString('utf8', HEADER_BYTES + rowBytes + nDirs * 4);
  const paths = nPaths === 0 ? [] : pathsText.split('\0');
  if (paths.length !== nPaths) return undefined;
  return {
    paths,
    pathsText,
    isCurrent(stats, fields, rootAbs) {
      // row k (0: the context directory) against mtimeMs, ctimeMs, ino, dev at `at` in `fresh`
      const current = (k: number, now: Float64Array, at: number): boolean => {
        const r = k * ROW;
        return (
          rows[r] === now[at] && rows[r + 1] === now[at + 1] && rows[r + 2] === now[at + 2] && rows[r + 3] === now[at + 3] &&
          Math.max(rows[r], rows[r + 1]) + RACY_WINDOW_MS < rows[r + 4]
        );
      };
      const st = new Float64Array(STAT_FIELDS);
      if (!statRoot(rootAbs, st) || !current(0, st, 2)) return false;
      for (let k = 0; k < nDirs; k++) {
        const i = dirs[k];
        if (i < 0 || i >= nPaths) return false;
        const f = i * fields;
        if (typeOfMode(stats[f]) !== 'dir') return false; // no longer a directory
        if (!current(k + 1, stats, f + 2)) return false;
      }
      return true;
    },
  };
}

function readListings(file: string): Map<string, Listing> {
  const old = new Map<string, Listing>();
  try {
    const text = readFileSync(file, 'utf8');
    const nl = text.indexOf('\n');
    if (text.slice(0, nl) === VERSION) {
      const t = text.slice(nl + 1).split('\0');
      let i = 0;
      while (i + 3 <= t.length) {
        const rel = t[i];
        const nums = t[i + 1].split(' ').map(Number);
        const kinds = t[i + 2];
        if (nums.length !== 5 || nums.some(Number.isNaN) || /[^fdlpscb]/.test(kinds) || i + 3 + kinds.length > t.length) break;
        old.set(rel, { row: [nums[0], nums[1], nums[2], nums[3]], readAt: nums[4], kinds, names: t.slice(i + 3, i + 3 + kinds.length) });
        i += 3 + kinds.length;
      }
    }
  } catch {
    // no cache yet, or unreadable: every directory is read
  }
  return old;
}
