import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { wrapError } from '@strata/errors';
import { fileSystemNow } from './fs-clock';

/**
 * Content hashes of files keyed by what stat says about them (absolute path, size, mtime, ctime,
 * inode), so an unchanged file is not read again. Stored as one text file per context directory.
 *
 * The trap (moby/buildkit#4817, and git's "racy clean"): a file rewritten within the timestamp
 * granularity after it was hashed keeps size and mtime. So an entry is trusted only when the file's
 * mtime is older than the moment the hash was taken by more than `RACY_WINDOW_MS` — that moment as
 * the file system's clock tells it (`now`), the clock the mtime comes from.
 */
export const RACY_WINDOW_MS = 2000;

interface CacheRecord {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  /** sha256 hex of the file bytes */
  hash: string;
  /** when the hash was taken (ms since epoch, on the file system's clock) */
  hashedAt: number;
  /** The entry digest last computed from this hash, and the header it was computed with. */
  header?: string;
  digest?: string;
}

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

export interface StatCache {
  /** The cached content hash for this file, if the stat data match and the entry is not racy. */
  get(absPath: string, st: StatKey): string | undefined;
  set(absPath: string, st: StatKey, hash: string, hashedAt: number): void;
  /** Now on the file system's clock (`fileSystemNow` in the cache directory), for `set`'s `hashedAt`. */
  now(): number;
  /** The entry digest remembered for this file and header (valid only after `get` returned a hash). */
  entryDigest(absPath: string, header: string): string | undefined;
  rememberEntryDigest(absPath: string, header: string, digest: string): void;
  /**
   * Write the cache atomically when something changed. With `prune` (after a walk of the whole
   * context), entries not looked at in this process are dropped (deleted or now-ignored files).
   */
  save(options?: { prune?: boolean }): void;
  readonly file: string;
}

const VERSION = 'strata-context-cache v3';

/** Where the stat cache of `contextDir` lives under `cacheDir`. */
export function statCacheFile(cacheDir: string, contextDir: string): string {
  return join(cacheDir, `${createHash('sha256').update(contextDir).digest('hex').slice(0, 32)}.tsv`);
}

/** Where the directory listings of the last walk of `contextDir` live under `cacheDir` (see walk-cache.ts). */
export function walkCacheFile(cacheDir: string, contextDir: string): string {
  return statCacheFile(cacheDir, contextDir).replace(/\.tsv$/, '.walk');
}

/** The stat cache of one context directory, under `cacheDir` (e.g. `<store root>/context-cache`). */
export function openStatCache(cacheDir: string, contextDir: string): StatCache {
  const file = statCacheFile(cacheDir, contextDir);
  const records = new Map<string, CacheRecord>();
  const used = new Set<string>();
  let dirty = false;
  try {
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    if (lines[0] === VERSION) {
      for (let i = 1; i < lines.length; i++) {
        const l = lines[i];
        if (l === '') continue;
        const f = l.split('\t');
        if (f.length < 9) continue;
        const p = f[8];
        records.set(`${contextDir}/${p.charCodeAt(0) === 34 ? (JSON.parse(p) as string) : p}`, {
          size: Number(f[0]), mtimeMs: Number(f[1]), ctimeMs: Number(f[2]), ino: Number(f[3]), hash: f[4], hashedAt: Number(f[5]),
          header: f[6] === '' ? undefined : f[6], digest: f[7] === '' ? undefined : f[7],
        });
      }
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') dirty = true; // unreadable or corrupt: start over
  }
  return {
    file,
    get(absPath, st) {
      const r = records.get(absPath);
      if (r === undefined) return undefined;
      for (const f of TRUSTED_STAT_FIELDS) if (r[f] !== st[f]) return undefined;
      if (st.mtimeMs + RACY_WINDOW_MS > r.hashedAt) return undefined;
      used.add(absPath);
      return r.hash;
    },
    entryDigest(absPath, header) {
      const r = records.get(absPath);
      return r !== undefined && r.header === header ? r.digest : undefined;
    },
    rememberEntryDigest(absPath, header, digest) {
      const r = records.get(absPath);
      if (r === undefined || (r.header === header && r.digest === digest)) return;
      r.header = header;
      r.digest = digest;
      dirty = true;
    },
    now: () => fileSystemNow(cacheDir),
    set(absPath, st, hash, hashedAt) {
      records.set(absPath, { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, hash, hashedAt });
      used.add(absPath);
      dirty = true;
    },
    save(options = {}) {
      const prune = options.prune === true && used.size !== records.size;
      if (!dirty && !prune) return;
      const out: string[] = [VERSION];
      for (const [path, r] of records) {
        if ((prune && !used.has(path)) || !path.startsWith(`${contextDir}/`)) continue;
        // paths are stored relative to the context; quoted only when they hold a tab, newline, quote or backslash
        const rel = path.slice(contextDir.length + 1);
        out.push(`${r.size}\t${r.mtimeMs}\t${r.ctimeMs}\t${r.ino}\t${r.hash}\t${r.hashedAt}\t${r.header ?? ''}\t${r.digest ?? ''}\t${/[\t\n\r"\\]/.test(rel) || rel === '' ? JSON.stringify(rel) : rel}`);
      }
      try {
        mkdirSync(cacheDir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, `${out.join('\n')}\n`);
        renameSync(tmp, file);
      } catch (err) {
        wrapError(err, `writing context stat cache ${file}`);
      }
    },
  };
}
