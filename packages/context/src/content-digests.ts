import { closeSync, openSync, readSync } from 'node:fs';
import { createHash, hash as hashOnce } from 'node:crypto';
import { resolve } from 'node:path';
import type { Digest } from '@strata/oci';
import { wrapError } from '@strata/errors';
import { beneathReader, type BeneathReader } from '@strata/tar';
import type { ContextEntry } from './walk-context';
import { openStatCache, type StatCache } from './stat-cache';

/**
 * What a content digest needs of an entry: its header fields, and the stat data the cache keys on;
 * `freshHash`, the sha256 (hex) of a file's bytes that a pass reading them anyway just took (a
 * layer written from the context), so they are not read again (see `DigestOptions.freshAt`).
 */
export type DigestEntry = Pick<ContextEntry, 'path' | 'type' | 'mode' | 'uid' | 'gid' | 'size' | 'linkname' | 'mtimeMs' | 'ctimeMs' | 'ino'> & {
  freshHash?: string;
  /**
   * The device the walk saw the file on: with it, the file is read only if it is that inode,
   * reached below the context's root with no symlink followed (`beneathReader`); without it, by path.
   */
  dev?: number;
};

export interface DigestOptions {
  /** Directory of the persistent stat cache (`<store root>/context-cache`); none: hash everything. */
  cacheDir?: string;
  /** An already opened cache (tests, or several calls in one process). */
  statCache?: StatCache;
  /** `entries` is the whole context: drop cache entries of files not among them. Default false. */
  prune?: boolean;
  /** When the entries' `freshHash`es were taken (before the pass read the first file), on the stat cache's clock (`StatCache.now()`). */
  freshAt?: number;
}

export interface ContextDigests {
  /** Per entry: sha256 over a metadata header (type, mode, uid, gid, size, link target) and the bytes. */
  readonly digests: ReadonlyMap<string, Digest>;
  /** Files whose contents were read in this pass (0 on an unchanged second run). */
  readonly filesRead: number;
  readonly bytesRead: number;
  /**
   * The digest of a subtree ('' or '.' = the whole context): the sorted (path relative to the
   * subtree, entry digest) pairs, so moving a tree elsewhere keeps its digest.
   */
  treeDigest(dir: string): Digest;
}

const CHUNK = 1 << 20;
let buffer: Buffer | undefined;

/** sha256 hex of a file's bytes, read synchronously in large chunks (fastest in Node, PERF-NOTES). */
export function hashFile(absPath: string): { hex: string; size: number } {
  let fd: number;
  try {
    fd = openSync(absPath, 'r');
  } catch (err) {
    return wrapError(err, `cannot read context file ${absPath}`);
  }
  return hashFd(fd, absPath);
}

/** `hashFile` of an open descriptor (closed here). */
function hashFd(fd: number, what: string): { hex: string; size: number } {
  buffer ??= Buffer.allocUnsafe(CHUNK);
  const h = createHash('sha256');
  let size = 0;
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, CHUNK, null);
      if (n === 0) break;
      h.update(n === CHUNK ? buffer : buffer.subarray(0, n));
      size += n;
    }
  } catch (err) {
    wrapError(err, `cannot read context file ${what}`);
  } finally {
    closeSync(fd);
  }
  return { hex: h.digest('hex'), size };
}

/** The path-independent header of an entry (never the mtime: touching a file must not bust the cache). */
export function entryHeader(e: Pick<ContextEntry, 'type' | 'mode' | 'uid' | 'gid' | 'size' | 'linkname'>): string {
  const mode = e.type === 'symlink' ? 0o777 : e.mode;
  return `${e.type}\0${mode.toString(8)}\0${e.uid}\0${e.gid}\0${e.type === 'file' ? e.size : 0}\0${e.linkname ?? ''}\0`;
}

/**
 * Content digests of walked entries (`listContext`), reading a file only when the stat cache has no
 * trustworthy hash for it.
 */
export function contentDigests(contextDir: string, entries: Iterable<DigestEntry>, options: DigestOptions = {}): ContextDigests {
  const root = resolve(contextDir);
  const cache = options.statCache ?? (options.cacheDir !== undefined ? openStatCache(options.cacheDir, root) : undefined);
  const digests = new Map<string, Digest>();
  let filesRead = 0;
  let bytesRead = 0;
  // taken once, before the first file is read: no later than any hash below (the racy rule's side)
  let hashedAt: number | undefined;
  let reader: BeneathReader | undefined;
  const hash = (e: DigestEntry) => {
    if (e.dev === undefined) return hashFile(`${root}/${e.path}`);
    reader ??= beneathReader(root);
    return hashFd(reader.openFile(e.path, { dev: e.dev, ino: e.ino }, `context file ${e.path}`), e.path);
  };
  try {
    for (const e of entries) {
      if (e.type === 'file') {
        // unchanged file, same metadata: the whole entry digest is known
        const known = cache !== undefined && cache.trusts(e.path, e) ? cache.entryDigest(e.path, e) : undefined;
        if (known !== undefined) {
          digests.set(e.path, known as Digest);
          continue;
        }
        let hex = cache?.get(e.path, e);
        if (hex === undefined) {
          filesRead++;
          if (e.freshHash !== undefined && options.freshAt !== undefined) {
            hex = e.freshHash;
            bytesRead += e.size;
            cache?.set(e.path, e, hex, options.freshAt);
          } else {
            hashedAt ??= cache?.now();
            const r = hash(e);
            bytesRead += r.size;
            hex = r.hex;
            // a file that changed size while walked is re-read next time (its stat key no longer matches)
            cache?.set(e.path, e, hex, hashedAt!);
          }
        }
        const digest: Digest = `sha256:${hashOnce('sha256', entryHeader(e) + hex, 'hex')}`;
        cache?.rememberEntryDigest(e.path, e, digest);
        digests.set(e.path, digest);
        continue;
      }
      digests.set(e.path, `sha256:${hashOnce('sha256', entryHeader(e), 'hex')}`);
    }
  } finally {
    reader?.close();
  }
  cache?.save({ prune: options.prune });
  let sorted: string[] | undefined;
  return {
    digests,
    filesRead,
    bytesRead,
    treeDigest(dir: string): Digest {
      const d = dir === '.' || dir === '/' ? '' : dir.replace(/^\.?\/+/, '').replace(/\/+$/, '');
      const h = createHash('sha256');
      const prefix = d === '' ? '' : `${d}/`;
      sorted ??= [...digests.keys()].sort();
      for (const p of sorted) {
        if (d !== '' && p !== d && !p.startsWith(prefix)) continue;
        const rel = p === d ? '.' : p.slice(prefix.length);
        h.update(`${rel}\0${digests.get(p)}\n`);
      }
      return `sha256:${h.digest('hex')}`;
    },
  };
}
