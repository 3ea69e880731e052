import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { wrapError } from '@strata/errors';
import { fileSystemNow } from './fs-clock';

/**
 * Content hashes of files keyed by what stat says about them (path, size, mtime, ctime, inode),
 * so an unchanged file is not read again. Stored as one file per context directory.
 *
 * The trap (moby/buildkit#4817, and git's "racy clean"): a file rewritten within the timestamp
 * granularity after it was hashed keeps size and mtime. So an entry is trusted only when the file's
 * mtime is older than the moment the hash was taken by more than `RACY_WINDOW_MS` — that moment as
 * the file system's clock tells it (`now`), the clock the mtime comes from.
 */
export const RACY_WINDOW_MS = 2000;

/** The numbers kept per record, in this order. */
const COL = { size: 0, mtimeMs: 1, ctimeMs: 2, ino: 3, hashedAt: 4, mode: 5, uid: 6, gid: 7 } as const;
const COLS = 8;
/** Per record: the sha256 of the bytes, then the entry digest last computed from it. */
const HASH_BYTES = 64;
/** Flags per record: whether the entry digest is set; whether the record was looked at in this process. */
const HAS_DIGEST = 1;
const USED = 2;

/**
 * The stat fields a cached hash must match to be trusted. ctime is the one a content change with
 * the size kept and the mtime put back (utimes) cannot hide. Exported for the rebuild-cache
 * property test, which drops a field to show that it catches a weaker rule; nothing else changes it.
 */
export const TRUSTED_STAT_FIELDS: Array<keyof StatKey> = ['size', 'mtimeMs', 'ctimeMs', 'ino'];

export interface StatKey {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

/** What an entry digest depends on besides the content and the size (files only: see `entryHeader`). */
export interface EntryFacts {
  mode: number;
  uid: number;
  gid: number;
}

export interface StatCache {
  /** The cached content hash (sha256 hex) of `path` (relative to the context), if the stat data match and the entry is not racy. */
  get(path: string, st: StatKey): string | undefined;
  /** `get(path, st) !== undefined`, without making the hex string. */
  trusts(path: string, st: StatKey): boolean;
  set(path: string, st: StatKey, hash: string, hashedAt: number): void;
  /** Now on the file system's clock (`fileSystemNow` in the cache directory), for `set`'s `hashedAt`. */
  now(): number;
  /** The entry digest remembered for this file with these facts (valid only after `get` returned a hash). */
  entryDigest(path: string, facts: EntryFacts): string | undefined;
  rememberEntryDigest(path: string, facts: EntryFacts, digest: string): void;
  /**
   * Write the cache atomically when something changed. With `prune` (after a walk of the whole
   * context), entries not looked at in this process are dropped (deleted or now-ignored files).
   */
  save(options?: { prune?: boolean }): void;
  readonly file: string;
}

const VERSION = 'strata-context-cache v4';
const HEADER_BYTES = 128;

/** Where the stat cache of `contextDir` lives under `cacheDir`. */
export function statCacheFile(cacheDir: string, contextDir: string): string {
  return join(cacheDir, `${createHash('sha256').update(contextDir).digest('hex').slice(0, 32)}.stat`);
}

/** Where the directory listings of the last walk of `contextDir` live under `cacheDir` (see walk-cache.ts). */
export function walkCacheFile(cacheDir: string, contextDir: string): string {
  return statCacheFile(cacheDir, contextDir).replace(/\.stat$/, '.walk');
}

/** Records in blocks: the ones read from the file (views of it), then new ones in blocks of `BLOCK`. */
interface Block {
  nums: Float64Array;
  hashes: Buffer;
  flags: Uint8Array;
}
const BLOCK = 16384;

interface Records {
  n: number;
  /** Records in the first block (those read from the file); the others are `BLOCK` to a block. */
  first: number;
  blocks: Block[];
  paths: string[];
}

function newBlock(n: number): Block {
  return { nums: new Float64Array(n * COLS), hashes: Buffer.alloc(n * HASH_BYTES), flags: new Uint8Array(n) };
}

const empty = (): Records => ({ n: 0, first: 0, blocks: [newBlock(0)], paths: [] });

/**
 * The file: a 128-byte ASCII header (version, number of records, byte length of the paths), the
 * numbers (`COLS` float64 per record), the hashes (`HASH_BYTES` per record), one flag byte per
 * record, and the paths relative to the context, UTF-8, NUL-separated. Columns, not a line per
 * file: a context of 200k files loads as views of one buffer and one string.
 */
function readRecords(file: string): Records | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return empty();
    return undefined;
  }
  const head = buf.toString('latin1', 0, Math.min(buf.length, HEADER_BYTES)).trimEnd().split(' ');
  if (head.length !== 4 || `${head[0]} ${head[1]}` !== VERSION) return undefined;
  const n = Number(head[2]);
  const textBytes = Number(head[3]);
  const numBytes = n * COLS * 8;
  if (!Number.isSafeInteger(n) || !Number.isSafeInteger(textBytes) || buf.length !== HEADER_BYTES + numBytes + n * HASH_BYTES + n + textBytes) return undefined;
  let at = HEADER_BYTES;
  // a view when aligned (a file this large has a buffer of its own), else a copy
  const numsAt = buf.byteOffset + at;
  const nums = numsAt % 8 === 0 ? new Float64Array(buf.buffer, numsAt, n * COLS) : new Float64Array(buf.buffer.slice(numsAt, numsAt + numBytes));
  at += numBytes;
  const hashes = buf.subarray(at, at + n * HASH_BYTES);
  at += n * HASH_BYTES;
  const flags = buf.subarray(at, at + n);
  for (let i = 0; i < n; i++) flags[i] &= HAS_DIGEST;
  at += n;
  const paths = n === 0 ? [] : buf.toString('utf8', at).split('\0');
  if (paths.length !== n) return undefined;
  return { n, first: n, blocks: [{ nums, hashes, flags }], paths };
}

/** The stat cache of one context directory, under `cacheDir` (e.g. `<store root>/context-cache`). */
export function openStatCache(cacheDir: string, contextDir: string): StatCache {
  const file = statCacheFile(cacheDir, contextDir);
  const loaded = readRecords(file);
  // unreadable or corrupt: start over (and write it anew)
  let dirty = loaded === undefined;
  const r: Records = loaded ?? empty();
  // record i: its block and its place there (set by `locate`)
  let blk: Block = r.blocks[0];
  let j = 0;
  const locate = (i: number) => {
    if (i < r.first) {
      blk = r.blocks[0];
      j = i;
    } else {
      blk = r.blocks[1 + Math.floor((i - r.first) / BLOCK)];
      j = (i - r.first) % BLOCK;
    }
  };
  // Lookups come in walk order, the order the records were written in: the next record is tried
  // first, and the index of every path is only built when that guess fails.
  let next = 0;
  let index: Map<string, number> | undefined;
  const find = (path: string): number => {
    if (next > 0 && r.paths[next - 1] === path) return next - 1;
    if (next < r.n && r.paths[next] === path) return next++;
    if (index === undefined) {
      index = new Map();
      for (let i = 0; i < r.n; i++) index.set(r.paths[i], i);
    }
    const i = index.get(path);
    if (i === undefined) return -1;
    next = i + 1;
    return i;
  };
  // which fields to compare, read once (the property test drops one before it opens a cache)
  const bySize = TRUSTED_STAT_FIELDS.includes('size');
  const byMtime = TRUSTED_STAT_FIELDS.includes('mtimeMs');
  const byCtime = TRUSTED_STAT_FIELDS.includes('ctimeMs');
  const byIno = TRUSTED_STAT_FIELDS.includes('ino');
  const trusted = (i: number, st: StatKey): boolean => {
    if (i < 0) return false;
    locate(i);
    const at = j * COLS;
    const nums = blk.nums;
    if (bySize && nums[at + COL.size] !== st.size) return false;
    if (byMtime && nums[at + COL.mtimeMs] !== st.mtimeMs) return false;
    if (byCtime && nums[at + COL.ctimeMs] !== st.ctimeMs) return false;
    if (byIno && nums[at + COL.ino] !== st.ino) return false;
    if (st.mtimeMs + RACY_WINDOW_MS > blk.nums[at + COL.hashedAt]) return false;
    blk.flags[j] |= USED;
    return true;
  };
  const sameFacts = (i: number, f: EntryFacts) => {
    locate(i);
    const at = j * COLS;
    return (blk.flags[j] & HAS_DIGEST) !== 0 && blk.nums[at + COL.mode] === f.mode && blk.nums[at + COL.uid] === f.uid && blk.nums[at + COL.gid] === f.gid;
  };
  const hexAt = (i: number, which: 0 | 1) => {
    locate(i);
    return blk.hashes.toString('hex', j * HASH_BYTES + which * 32, j * HASH_BYTES + which * 32 + 32);
  };
  return {
    file,
    get(path, st) {
      const i = find(path);
      return trusted(i, st) ? hexAt(i, 0) : undefined;
    },
    trusts(path, st) {
      return trusted(find(path), st);
    },
    entryDigest(path, facts) {
      const i = find(path);
      return i >= 0 && sameFacts(i, facts) ? `sha256:${hexAt(i, 1)}` : undefined;
    },
    rememberEntryDigest(path, facts, digest) {
      const i = find(path);
      if (i < 0 || !/^sha256:[0-9a-f]{64}$/.test(digest)) return;
      if (sameFacts(i, facts) && hexAt(i, 1) === digest.slice(7)) return;
      locate(i);
      const at = j * COLS;
      blk.nums[at + COL.mode] = facts.mode;
      blk.nums[at + COL.uid] = facts.uid;
      blk.nums[at + COL.gid] = facts.gid;
      blk.hashes.write(digest.slice(7), j * HASH_BYTES + 32, 32, 'hex');
      blk.flags[j] |= HAS_DIGEST;
      dirty = true;
    },
    now: () => fileSystemNow(cacheDir),
    set(path, st, hash, hashedAt) {
      let i = find(path);
      if (i < 0) {
        if ((r.n - r.first) % BLOCK === 0) r.blocks.push(newBlock(BLOCK));
        i = r.n++;
        r.paths.push(path);
        index?.set(path, i);
        next = i + 1;
      }
      locate(i);
      const at = j * COLS;
      blk.nums[at + COL.size] = st.size;
      blk.nums[at + COL.mtimeMs] = st.mtimeMs;
      blk.nums[at + COL.ctimeMs] = st.ctimeMs;
      blk.nums[at + COL.ino] = st.ino;
      blk.nums[at + COL.hashedAt] = hashedAt;
      blk.hashes.write(hash, j * HASH_BYTES, 32, 'hex');
      blk.flags[j] = USED; // the entry digest of the old content is gone
      dirty = true;
    },
    save(options = {}) {
      const used = (i: number) => {
        locate(i);
        return (blk.flags[j] & USED) !== 0;
      };
      let kept = r.n;
      if (options.prune === true) {
        kept = 0;
        for (let i = 0; i < r.n; i++) if (used(i)) kept++;
      }
      if (!dirty && kept === r.n) return;
      // The columns are written block by block, a run of kept records at a time: nothing is
      // copied whole (a context of 200k files has 25 MB of them).
      const keep = (i: number) => kept === r.n || used(i);
      const paths: string[] = [];
      for (let i = 0; i < r.n; i++) if (keep(i)) paths.push(r.paths[i]);
      const text = Buffer.from(paths.join('\0'), 'utf8');
      const header = Buffer.alloc(HEADER_BYTES, 0x20);
      header.write(`${VERSION} ${kept} ${text.length}`, 0, 'latin1');
      header[HEADER_BYTES - 1] = 0x0a;
      try {
        mkdirSync(cacheDir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        const fd = openSync(tmp, 'w');
        try {
          const put = (part: Uint8Array) => {
            let off = 0;
            while (off < part.length) off += writeSync(fd, part, off, part.length - off);
          };
          put(header);
          // each column, in runs of kept records within one block
          for (const column of ['nums', 'hashes', 'flags'] as const) {
            const width = column === 'nums' ? COLS * 8 : column === 'hashes' ? HASH_BYTES : 1;
            for (let i = 0; i < r.n; ) {
              if (!keep(i)) {
                i++;
                continue;
              }
              locate(i);
              const b = blk;
              const from = j;
              let to = from + 1;
              i++;
              while (i < r.n && keep(i) && (locate(i), blk === b)) {
                to++;
                i++;
              }
              const col = b[column];
              const bytes = new Uint8Array(col.buffer, col.byteOffset + from * width, (to - from) * width);
              if (column === 'flags') put(bytes.map((f) => f & HAS_DIGEST));
              else put(bytes);
            }
          }
          put(text);
        } finally {
          closeSync(fd);
        }
        renameSync(tmp, file);
        // the text format of earlier versions, if any
        rmSync(file.replace(/\.stat$/, '.tsv'), { force: true });
      } catch (err) {
        wrapError(err, `writing context stat cache ${file}`);
      }
      dirty = false;
    },
  };
}
