import { createHash, hash as hashOnce, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { StrataError } from '@strata/errors';
import { openIdentified } from './beneath';
import { comparePaths } from './clean-path';
import type { EntryType, TarEntry } from './entry';
import { openTarFile, type TarFileCursor, type TarFileEntry } from './read-tar';

/**
 * Open a file entry's bytes: its own opener (`openSourceFd`), or `sourcePath`. With
 * `sourceIdentity`: never through a final symlink, never blocking (a FIFO swapped in), and only
 * the inode the entry was made from.
 */
function openSource(e: TarWriteEntry): number {
  if (e.openSourceFd !== undefined) return e.openSourceFd();
  if (e.sourceIdentity === undefined) return openSync(e.sourcePath!, 'r');
  return openIdentified(e.sourcePath!, e.sourceIdentity, e.path);
}

/** An entry to write: the metadata plus where its bytes come from (files only). */
export interface TarWriteEntry extends Omit<TarEntry, 'name'> {
  /** In-memory content. */
  data?: Uint8Array | string;
  /**
   * A file on disk, read synchronously straight into the output buffer (the fastest way in Node
   * for many small files). With `sourceOffset`, the content starts there (a range of a layer tar).
   */
  sourcePath?: string;
  sourceOffset?: number;
  /** An open descriptor of `sourcePath` to read from (the caller closes it). */
  sourceFd?: number;
  /**
   * The file found at `sourcePath` when the entry was made (its lstat): the file opened must be
   * that very one, so a directory on the way or the file itself swapped for a symlink meanwhile
   * cannot make the writer read something outside the tree it walked (docs/PATH-SAFETY.md).
   */
  sourceIdentity?: { dev: number; ino: number };
  /**
   * Opens the bytes of `sourcePath` a safer way than by its path (the writer closes the
   * descriptor): a file of a tree walked by path, reached again below its root (`beneathReader`).
   */
  openSourceFd?: () => number;
  /** A byte stream of exactly `size` bytes. */
  open?: () => AsyncIterable<Uint8Array> | Promise<AsyncIterable<Uint8Array>>;
}

export interface WriteTarOptions {
  /** Clamp every mtime to at most this many seconds since the epoch (`SOURCE_DATE_EPOCH`). */
  clampMtime?: number;
  /** Keep sub-second mtimes (in PAX records). Default true; false truncates to whole seconds. */
  subsecond?: boolean;
  /** Called with each file's bytes as they are written (to hash contents in the same pass). */
  onData?: (entry: TarWriteEntry, chunk: Uint8Array) => void;
  /**
   * Called with the sha256 (hex) of each file's content read from `sourcePath`, hashed as it is
   * read (not for entries copied from `base`).
   */
  onContentHash?: (entry: TarWriteEntry, hex: string) => void;
  /**
   * A tar file this writer wrote before with entries in the same order (the layer of an earlier
   * build of the same step). A file entry whose header blocks there are byte for byte the ones it
   * gets now, and whose content there hashes to its `contentHash`, is copied from that file
   * instead of read from its source (a splice): the output is the same bytes either way.
   */
  base?: string;
  /** With `base`: the sha256 (hex) of a file entry's content when known without reading it (a stat cache). */
  contentHash?: (entry: TarWriteEntry) => string | undefined;
  /** Filled in as the tar is written. */
  stats?: WriteTarStats;
  /**
   * Where output buffers come from: a consumer that gives each chunk back once done with it
   * (`BlobStore.put`'s `release`) lets a long tar reuse a few buffers, instead of leaving one per
   * MiB for the garbage collector (external memory it frees late: RSS grew with the layer).
   */
  buffers?: TarBuffers;
}

/** Output buffers for `writeTar`, given back by the consumer (see `WriteTarOptions.buffers`). */
export interface TarBuffers {
  take(): Buffer;
  give(chunk: Uint8Array): void;
}

/** A pool of `writeTar` output buffers: the ones given back are handed out again. */
export function tarBuffers(): TarBuffers {
  const free: ArrayBuffer[] = [];
  const mine = new WeakSet<ArrayBufferLike>();
  return {
    take() {
      const ab = free.pop();
      if (ab !== undefined) return Buffer.from(ab);
      const b = Buffer.allocUnsafeSlow(OUT);
      mine.add(b.buffer);
      return b;
    },
    give(chunk) {
      const ab = chunk.buffer;
      if (chunk.byteOffset === 0 && mine.has(ab) && !free.includes(ab as ArrayBuffer)) free.push(ab as ArrayBuffer);
    },
  };
}

/** What a write did with its entries. */
export interface WriteTarStats {
  /** File entries copied from `base`. */
  spliced: number;
  /** File entries read from their source (disk, memory or stream). */
  read: number;
  /**
   * The bytes of the regular files written (what Docker counts as a layer's size: `tarFileBytes`
   * of the output), set once the whole tar has been written, so the size of a layer being stored
   * needs no second read of it.
   */
  fileBytes?: number;
}

const FLAGS: Record<EntryType, number> = { file: 0x30, hardlink: 0x31, symlink: 0x32, char: 0x33, block: 0x34, dir: 0x35, fifo: 0x36 };
const ZERO = Buffer.alloc(1024);
const CHUNK = 64 * 1024;
const USTAR_MAGIC = Buffer.from('ustar\x0000', 'latin1');
/** Output buffer size; also the largest entry copied from a base tar (bigger ones are read from their source). */
const OUT = 1024 * 1024;

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}

function fitsOctal(n: number, width: number): boolean {
  return Number.isInteger(n) && n >= 0 && n < 8 ** (width - 1);
}

/** `n` as `width - 1` zero-padded octal digits and a NUL (what ustar numeric fields hold). */
function octal(buf: Buffer, off: number, width: number, n: number): void {
  if (!fitsOctal(n, width)) {
    // does not fit (device numbers are not checked before): the digits, cut to the field
    buf.write(`${n.toString(8).padStart(width - 1, '0')}\0`, off, width, 'latin1');
    return;
  }
  buf[off + width - 1] = 0;
  for (let i = off + width - 2; i >= off; i--) {
    buf[i] = 0x30 + (n % 8);
    n = Math.floor(n / 8);
  }
}

/** Split a long ustar name into prefix (≤155) + name (≤100) at a `/`, or undefined. */
function splitUstar(name: string): [string, string] | undefined {
  if (name.length <= 100) return ['', name];
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/') continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (rest.length === 0 || rest.length > 100) return undefined;
    if (prefix.length <= 155) return [prefix, rest];
  }
  return undefined;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len), 'latin1'), body]);
}

function formatTime(t: number): string {
  if (Number.isInteger(t)) return String(t);
  const s = Math.floor(t);
  const frac = Math.round((t - s) * 1e6);
  if (frac === 0) return String(s);
  if (frac === 1e6) return String(s + 1);
  return `${s}.${String(frac).padStart(6, '0').replace(/0+$/, '')}`;
}

interface Header {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  flag: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  prefix: string;
}

/** One 512-byte ustar block at `b[at]`. Every string is ASCII here (what is not goes to PAX records). */
function putHeader(b: Buffer, at: number, h: Header): void {
  b.fill(0, at, at + 512);
  b.write(h.name, at, 100, 'latin1');
  octal(b, at + 100, 8, h.mode);
  octal(b, at + 108, 8, h.uid);
  octal(b, at + 116, 8, h.gid);
  octal(b, at + 124, 12, h.size);
  octal(b, at + 136, 12, h.mtime);
  b.fill(0x20, at + 148, at + 156);
  b[at + 156] = h.flag;
  if (h.linkname !== '') b.write(h.linkname, at + 157, 100, 'latin1');
  USTAR_MAGIC.copy(b, at + 257);
  if (h.uname !== '') b.write(h.uname, at + 265, 32, 'latin1');
  if (h.gname !== '') b.write(h.gname, at + 297, 32, 'latin1');
  octal(b, at + 329, 8, h.devmajor);
  octal(b, at + 337, 8, h.devminor);
  if (h.prefix !== '') b.write(h.prefix, at + 345, 155, 'latin1');
  let sum = 0;
  for (let i = at; i < at + 512; i++) sum += b[i];
  // six octal digits, NUL, space
  b[at + 155] = 0x20;
  b[at + 154] = 0;
  for (let i = at + 153; i >= at + 148; i--) {
    b[i] = 0x30 + (sum % 8);
    sum = Math.floor(sum / 8);
  }
}

/**
 * The header blocks of `e`: written at `out[at]` when one ustar block says it all (the common
 * case; returns 512), else returned as a new buffer (a PAX header first).
 */
function headerInto(e: TarWriteEntry, opts: WriteTarOptions, out: Buffer, at: number): number | Buffer {
  let mtime = e.mtime;
  if (opts.clampMtime !== undefined && mtime > opts.clampMtime) mtime = opts.clampMtime;
  if (opts.subsecond === false) mtime = Math.floor(mtime);
  const size = e.type === 'file' ? e.size : 0;
  const name = e.path === '.' ? './' : e.type === 'dir' ? `${e.path}/` : e.path;
  const linkname = e.type === 'symlink' || e.type === 'hardlink' ? (e.linkname ?? '') : '';
  const uname = e.uname ?? '';
  const gname = e.gname ?? '';
  let records: Buffer[] | undefined;
  const record = (key: string, value: Buffer) => (records ??= []).push(paxRecord(key, value));
  const split = isAscii(name) ? splitUstar(name) : undefined;
  if (!split) record('path', Buffer.from(name, 'utf8'));
  if (linkname.length > 100 || !isAscii(linkname)) record('linkpath', Buffer.from(linkname, 'utf8'));
  if (!fitsOctal(size, 12)) record('size', Buffer.from(String(size)));
  if (!fitsOctal(e.uid, 8)) record('uid', Buffer.from(String(e.uid)));
  if (!fitsOctal(e.gid, 8)) record('gid', Buffer.from(String(e.gid)));
  if (!Number.isInteger(mtime) || !fitsOctal(mtime, 12)) record('mtime', Buffer.from(formatTime(mtime)));
  if (uname.length > 32 || !isAscii(uname)) record('uname', Buffer.from(uname, 'utf8'));
  if (gname.length > 32 || !isAscii(gname)) record('gname', Buffer.from(gname, 'utf8'));
  if (e.xattrs) {
    for (const k of Object.keys(e.xattrs).sort()) record(`SCHILY.xattr.${k}`, Buffer.from(e.xattrs[k]));
  }
  const [prefix, short] = split ?? ['', asciiTail(name, 100)];
  const base: Header = {
    name: short,
    prefix,
    mode: e.mode & 0o7777,
    uid: fitsOctal(e.uid, 8) ? e.uid : 0,
    gid: fitsOctal(e.gid, 8) ? e.gid : 0,
    size: fitsOctal(size, 12) ? size : 0,
    mtime: fitsOctal(Math.floor(mtime), 12) ? Math.floor(mtime) : 0,
    flag: FLAGS[e.type],
    linkname: linkname.length > 100 || !isAscii(linkname) ? asciiTail(linkname, 100) : linkname,
    uname: uname.length > 32 || !isAscii(uname) ? '' : uname,
    gname: gname.length > 32 || !isAscii(gname) ? '' : gname,
    devmajor: e.devmajor ?? 0,
    devminor: e.devminor ?? 0,
  };
  if (records === undefined) {
    putHeader(out, at, base);
    return 512;
  }
  const payload = Buffer.concat(records);
  const pad = (512 - (payload.length % 512)) % 512;
  const blocks = Buffer.alloc(512 + payload.length + pad + 512);
  putHeader(blocks, 0, {
    ...base,
    // Like Go's archive/tar: a fixed, recognisable name; readers use the records.
    name: asciiTail(`PaxHeaders.0/${short}`, 100),
    prefix: '',
    size: payload.length,
    flag: 0x78, // 'x'
    linkname: '',
  });
  payload.copy(blocks, 512);
  putHeader(blocks, 512 + payload.length + pad, base);
  return blocks;
}

/** The header blocks of one entry (a PAX header first when ustar cannot say it all). */
export function encodeEntryHeader(e: TarWriteEntry, opts: WriteTarOptions = {}): Buffer {
  const b = Buffer.allocUnsafe(512);
  const r = headerInto(e, opts, b, 0);
  return typeof r === 'number' ? b : r;
}

function asciiTail(s: string, max: number): string {
  const a = s.replace(/[^\x20-\x7e]/g, '_');
  return a.length <= max ? a : a.slice(a.length - max);
}

async function* fileBody(e: TarWriteEntry, opts: WriteTarOptions): AsyncGenerator<Uint8Array> {
  let written = 0;
  const emit = (c: Uint8Array) => {
    written += c.length;
    if (written > e.size) throw new StrataError('IO_ERROR', `${e.path}: content is longer than its size ${e.size} (file changed while reading?)`);
    opts.onData?.(e, c);
    return c;
  };
  if (e.data !== undefined) {
    yield emit(typeof e.data === 'string' ? Buffer.from(e.data) : e.data);
  } else if (e.sourcePath !== undefined) {
    const fd = openSource(e);
    try {
      for (;;) {
        const want = Math.min(CHUNK, e.size - written + 1);
        const b = Buffer.allocUnsafe(Math.max(want, 1));
        const n = readSync(fd, b, 0, b.length, null);
        if (n === 0) break;
        yield emit(b.subarray(0, n));
      }
    } finally {
      closeSync(fd);
    }
  } else if (e.open !== undefined) {
    for await (const c of await e.open()) yield emit(c);
  }
  if (written !== e.size) throw new StrataError('IO_ERROR', `${e.path}: got ${written} bytes of content, header says ${e.size} (file changed while reading?)`);
}

/**
 * The entries of a base tar in order, matched to the new entries as they come (both sorted by
 * `comparePaths`, so one forward pass serves the whole write). The base entry where the last one
 * ended is tried first by its header bytes alone, nothing decoded: in a rebuild almost every
 * entry is where it was, byte for byte. Only where those differ is the base read header by header
 * up to the entry's path.
 */
function baseMatcher(path: string) {
  const cursor = openTarFile(path, { window: OUT });
  /** Where the next base entry not passed yet begins; undefined: past the last one. */
  let at: number | undefined = 0;
  /** The entry last decoded: the one at `at` unless a header match passed it since. */
  let cur: TarFileEntry | undefined;
  const passed = (next: TarFileEntry | undefined) => {
    cur = next;
    at = next?.start;
  };
  return {
    cursor,
    /**
     * The base entry that has exactly these header blocks (which name `p` and give a content of
     * `size` bytes): where its header and its content begin. It is passed either way.
     */
    match(p: string, header: Buffer, size: number): { start: number; offset: number } | undefined {
      if (at === undefined) return undefined;
      const here = cursor.view(at, header.length);
      if (here !== undefined && here.equals(header)) {
        const start = at;
        at = start + header.length + Math.ceil(size / 512) * 512;
        return { start, offset: start + header.length };
      }
      if (cur?.start !== at) {
        cursor.seek(at);
        passed(cursor.next());
      }
      while (cur !== undefined && comparePaths(cur.entry.path, p) < 0) passed(cursor.next());
      if (cur === undefined || cur.entry.path !== p) return undefined;
      const old = cur;
      passed(cursor.next());
      if (old.offset - old.start !== header.length || old.dataSize !== size) return undefined;
      const blocks = cursor.view(old.start, header.length);
      return blocks !== undefined && blocks.equals(header) ? { start: old.start, offset: old.offset } : undefined;
    },
  };
}

/**
 * A sync iterable's entries in arrays of up to 256 (one await per batch, not per entry); an async
 * one as it is.
 */
async function* batches<T>(it: Iterable<T> | AsyncIterable<T>): AsyncGenerator<T[]> {
  if (Symbol.asyncIterator in it) {
    for await (const x of it) yield [x];
    return;
  }
  let batch: T[] = [];
  for (const x of it) {
    batch.push(x);
    if (batch.length === 256) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/**
 * Write a tar: entries in the order given (sort them with `comparePaths` for a deterministic
 * layer), normalised headers (ustar; PAX only for what ustar cannot say), end-of-archive blocks.
 * The output is produced as it is read: 1 MiB buffers, each handed out once and never touched
 * again (a consumer may keep them without copying).
 */
export async function* writeTar(entries: Iterable<TarWriteEntry> | AsyncIterable<TarWriteEntry>, opts: WriteTarOptions = {}): AsyncGenerator<Uint8Array> {
  // Headers are encoded and file contents read from disk straight into the output buffer, so a
  // tree of small files costs one consumer write per MiB.
  const buffers = opts.buffers;
  let out = buffers !== undefined ? buffers.take() : Buffer.allocUnsafe(OUT);
  let pos = 0;
  const full = () => {
    const b = out.subarray(0, pos);
    out = buffers !== undefined ? buffers.take() : Buffer.allocUnsafe(OUT);
    pos = 0;
    return b;
  };
  const put = function* (c: Uint8Array): Generator<Uint8Array> {
    let off = 0;
    while (off < c.length) {
      if (pos === OUT) yield full();
      const n = Math.min(c.length - off, OUT - pos);
      out.set(c.subarray(off, off + n), pos);
      pos += n;
      off += n;
    }
  };
  const stats = opts.stats;
  let fileBytes = 0;
  const base = opts.base !== undefined ? baseMatcher(opts.base) : undefined;
  try {
    // a plain iterable is taken in batches: no await per entry (a layer can have 200k)
    for await (const batch of batches(entries)) for (const e of batch) {
      // pos is a multiple of 512 here, and so is OUT: a ustar block fits whenever pos < OUT
      if (pos === OUT) yield full();
      const headerAt = pos;
      const h = headerInto(e, opts, out, pos);
      const header = base !== undefined ? (typeof h === 'number' ? out.subarray(headerAt, headerAt + 512) : h) : undefined;
      if (typeof h === 'number') pos += h;
      else yield* put(h);
      if (e.type !== 'file') {
        // passed in the base too (where it has it), so the next entry is found where this one ends
        base?.match(e.path, header!, 0);
        continue;
      }
      fileBytes += e.size;
      const spliced = base !== undefined ? spliceFrom(base, e, header!) : undefined;
      if (stats !== undefined) stats[spliced !== undefined ? 'spliced' : 'read']++;
      if (spliced !== undefined) {
        // the base tar's content for this very header (the padding is zeros either way)
        opts.onData?.(e, spliced);
        yield* put(spliced);
      } else if (e.sourcePath !== undefined && e.data === undefined && e.open === undefined) {
        const fd = e.sourceFd ?? openSource(e);
        const hash: Hash | undefined = opts.onContentHash !== undefined && e.sourceOffset === undefined ? createHash('sha256') : undefined;
        try {
          let done = 0;
          const from = e.sourceOffset ?? 0;
          while (done < e.size) {
            if (pos === OUT) yield full();
            const n = readSync(fd, out, pos, Math.min(e.size - done, OUT - pos), from + done);
            if (n === 0) throw new StrataError('IO_ERROR', `${e.path}: got ${done} bytes of content, header says ${e.size} (file changed while reading?)`);
            const chunk = out.subarray(pos, pos + n);
            hash?.update(chunk);
            opts.onData?.(e, chunk);
            pos += n;
            done += n;
          }
        } finally {
          if (e.sourceFd === undefined) closeSync(fd);
        }
        if (hash !== undefined) opts.onContentHash!(e, hash.digest('hex'));
      } else {
        for await (const c of fileBody(e, opts)) yield* put(c);
      }
      const pad = (512 - (e.size % 512)) % 512;
      if (pad) yield* put(ZERO.subarray(0, pad));
    }
  } finally {
    base?.cursor.close();
  }
  yield* put(ZERO);
  if (stats !== undefined) stats.fileBytes = fileBytes;
  const last = out.subarray(0, pos);
  out = Buffer.alloc(0);
  yield last;

  /**
   * `e`'s content in the base tar (a view, valid until the base is read again), when its entry
   * there has these very header blocks and its content hashes to `contentHash(e)`.
   */
  function spliceFrom(b: NonNullable<typeof base>, e: TarWriteEntry, header: Buffer): Buffer | undefined {
    const old = b.match(e.path, header, e.size);
    if (old === undefined || old.offset + e.size - old.start > OUT) return undefined; // a big file: read from its source, as fast
    const want = opts.contentHash?.(e);
    if (want === undefined) return undefined;
    const blocks = b.cursor.view(old.start, old.offset + e.size - old.start);
    if (blocks === undefined) return undefined;
    const content = blocks.subarray(header.length);
    return hashOnce('sha256', content, 'hex') === want ? content : undefined;
  }
}
