import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StrataError } from '@strata/errors';
import { byteReader } from './byte-reader';
import { cleanPath } from './clean-path';
import type { EntryType, TarEntry } from './entry';

/** One entry of a tar being read; `body` must be consumed before asking for the next entry (or it is skipped). */
export interface TarReadEntry {
  entry: TarEntry;
  /** File content (empty for non-files). */
  body: AsyncIterable<Buffer>;
  /** Byte offset of the content in the tar stream (for reading it later by range). */
  offset: number;
}

export interface ReadTarOptions {
  /** Name used in error messages (`layer sha256:…`). */
  what?: string;
  /**
   * Whether to clean paths (default true). With `false`, `entry.path` is the raw name minus a
   * trailing `/`, so safety checks can see `..` and absolute names themselves.
   */
  clean?: boolean;
}

const TYPES: Record<string, EntryType> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
};

function str(b: Buffer, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  return b.toString('utf8', off, end);
}

function num(b: Buffer, off: number, len: number, field: string, name: string): number {
  if (b[off] & 0x80) {
    // GNU base-256: big-endian two's complement, top bit of the first byte marks it.
    if (b[off] === 0xff) throw new StrataError('INVALID_TAR', `entry ${JSON.stringify(name)}: negative ${field}`);
    let v = b[off] & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i];
    if (!Number.isSafeInteger(v)) throw new StrataError('INVALID_TAR', `entry ${JSON.stringify(name)}: ${field} too large`);
    return v;
  }
  const end = off + len;
  let i = off;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  let v = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = b[i];
    if (c === 0x20 || c === 0) break;
    if (c < 0x30 || c > 0x37) throw new StrataError('INVALID_TAR', `entry ${JSON.stringify(name)}: bad octal ${field}`);
    v = v * 8 + (c - 0x30);
    digits++;
  }
  return digits === 0 ? 0 : v;
}

function checksumOk(h: Buffer): boolean {
  let want: number;
  try {
    want = num(h, 148, 8, 'checksum', '');
  } catch {
    return false;
  }
  let unsigned = 8 * 0x20; // the checksum field counts as spaces
  for (let i = 0; i < 148; i++) unsigned += h[i];
  for (let i = 156; i < 512; i++) unsigned += h[i];
  if (want === unsigned) return true;
  // some old writers summed signed bytes
  let signed = unsigned;
  for (let i = 0; i < 512; i++) if ((i < 148 || i >= 156) && h[i] > 127) signed -= 256;
  return want === signed;
}

/** Whether a 512-byte block is a tar header (its checksum matches): how a tar is told from other bytes. */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.length < 512) return false;
  const h = Buffer.from(block.buffer, block.byteOffset, 512);
  return !isZeroBlock(h) && checksumOk(h);
}

/** An end-of-archive block (all zeros). */
function isZeroBlock(h: Uint8Array): boolean {
  for (let i = 0; i < 512; i++) if (h[i] !== 0) return false;
  return true;
}

/** PAX records: `<len> <key>=<value>\n`, values kept as raw bytes (xattrs can be binary). */
function parsePax(buf: Buffer, into: Map<string, Buffer>): void {
  let off = 0;
  while (off < buf.length) {
    if (buf[off] === 0) break;
    const sp = buf.indexOf(0x20, off);
    if (sp < 0) throw new StrataError('INVALID_TAR', 'malformed PAX record');
    const len = Number.parseInt(buf.subarray(off, sp).toString('latin1'), 10);
    if (!Number.isFinite(len) || len <= sp - off || off + len > buf.length) throw new StrataError('INVALID_TAR', 'malformed PAX record length');
    const rec = buf.subarray(sp + 1, off + len - 1); // without the trailing newline
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw new StrataError('INVALID_TAR', 'malformed PAX record');
    into.set(rec.subarray(0, eq).toString('utf8'), Buffer.from(rec.subarray(eq + 1)));
    off += len;
  }
}

const MAX_META = 1 << 20; // PAX / GNU long-name payloads larger than this are hostile

/** What a tar reader carries from one header to the next (PAX records, GNU long names). */
interface DecodeState {
  global: Map<string, Buffer>;
  pax: Map<string, Buffer>;
  longName?: string;
  longLink?: string;
}

type Step =
  | { kind: 'meta'; flag: string; size: number; padded: number }
  | { kind: 'skip'; padded: number }
  | { kind: 'entry'; entry: TarEntry; dataSize: number };

function newState(): DecodeState {
  return { global: new Map(), pax: new Map() };
}

/** Take in the payload of a PAX / GNU long-name record. */
function takeMeta(st: DecodeState, flag: string, payload: Buffer): void {
  if (flag === 'x') parsePax(payload, st.pax);
  else if (flag === 'g') parsePax(payload, st.global);
  else {
    const z = payload.indexOf(0);
    const s = payload.subarray(0, z < 0 ? payload.length : z).toString('utf8');
    if (flag === 'L') st.longName = s;
    else st.longLink = s;
  }
}

/** Decode one 512-byte header block (not all zeros) into the next step; no I/O. */
function decodeBlock(h: Buffer, st: DecodeState, opts: ReadTarOptions, what: string): Step {
  const rawName0 = str(h, 0, 100);
  if (!checksumOk(h)) throw new StrataError('INVALID_TAR', `${what}: bad header checksum${rawName0 ? ` at ${JSON.stringify(rawName0)}` : ''}`, { hint: 'is it compressed? strata reads uncompressed tars here' });
  const flag = String.fromCharCode(h[156]);
  const size = num(h, 124, 12, 'size', rawName0);
  const padded = Math.ceil(size / 512) * 512;
  if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
    if (size > MAX_META) throw new StrataError('INVALID_TAR', `${what}: metadata record of ${size} bytes is too large`);
    return { kind: 'meta', flag, size, padded };
  }
  if (flag === 'V') return { kind: 'skip', padded };
  const type = TYPES[flag];
  if (!type) {
    throw new StrataError(flag === 'S' ? 'UNSUPPORTED' : 'INVALID_TAR', `${what}: entry ${JSON.stringify(rawName0)} has unsupported type ${JSON.stringify(flag)}`);
  }
  // ustar magic ("ustar\0"): the prefix field holds the leading part of a long name
  const ustar = h[257] === 0x75 && h[258] === 0x73 && h[259] === 0x74 && h[260] === 0x61 && h[261] === 0x72 && h[262] === 0;
  let name = ustar && h[345] !== 0 ? `${str(h, 345, 155)}/${rawName0}` : rawName0;
  let linkname = h[157] === 0 ? '' : str(h, 157, 100);
  // PAX records and GNU long names (most entries have none: no lookups then)
  const records = st.pax.size > 0 || st.global.size > 0;
  const rec = (k: string) => st.pax.get(k) ?? st.global.get(k);
  const recStr = (k: string) => (records ? rec(k)?.toString('utf8') : undefined);
  const recNum = (k: string) => {
    const v = recStr(k);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new StrataError('INVALID_TAR', `${what}: entry ${JSON.stringify(name)} has a bad PAX ${k}`);
    return n;
  };
  const recInt = (k: string) => {
    const n = recNum(k);
    if (n !== undefined && !Number.isSafeInteger(n)) throw new StrataError('INVALID_TAR', `${what}: entry ${JSON.stringify(name)} has a bad PAX ${k}`);
    return n;
  };
  // A PAX time is seconds in a signed 64-bit integer (plus a fraction), as Go's archive/tar reads
  // it: a larger one is a bad record, not a time the kernel refuses later (EINVAL) on extraction.
  const recTime = (k: 'mtime' | 'atime') => {
    const n = recNum(k);
    if (n !== undefined && n >= 2 ** 63) throw new StrataError('INVALID_TAR', `${what}: entry ${JSON.stringify(name)} has a bad PAX ${k}`);
    return n;
  };
  if (st.longName !== undefined) name = st.longName;
  if (st.longLink !== undefined) linkname = st.longLink;
  name = recStr('path') ?? name;
  linkname = recStr('linkpath') ?? linkname;
  const paxSize = recNum('size');
  if (paxSize !== undefined && !Number.isSafeInteger(paxSize)) throw new StrataError('INVALID_TAR', `${what}: entry ${JSON.stringify(name)} has a bad PAX size`);
  let entrySize = paxSize ?? size;
  if (type !== 'file') entrySize = type === 'hardlink' || type === 'symlink' || type === 'dir' ? 0 : entrySize;
  const dataSize = paxSize ?? size;
  let xattrs: Record<string, Buffer> | undefined;
  if (records) {
    for (const src2 of [st.global, st.pax]) {
      for (const [k, v] of src2) {
        if (k.startsWith('SCHILY.xattr.')) (xattrs ??= {})[k.slice('SCHILY.xattr.'.length)] = v;
      }
    }
  }
  let path: string;
  try {
    path = opts.clean === false ? name.replace(/\/+$/, '') || '.' : cleanPath(name);
  } catch (err) {
    throw new StrataError('UNSAFE_PATH', `${what}: entry ${JSON.stringify(name)} escapes the root`, { cause: err });
  }
  const entry: TarEntry = {
    name,
    path,
    type,
    mode: num(h, 100, 8, 'mode', name) & 0o7777,
    uid: recInt('uid') ?? num(h, 108, 8, 'uid', name),
    gid: recInt('gid') ?? num(h, 116, 8, 'gid', name),
    size: type === 'file' ? entrySize : 0,
    mtime: recTime('mtime') ?? num(h, 136, 12, 'mtime', name),
  };
  const uname = recStr('uname') ?? (h[265] === 0 ? '' : str(h, 265, 32));
  const gname = recStr('gname') ?? (h[297] === 0 ? '' : str(h, 297, 32));
  if (uname) entry.uname = uname;
  if (gname) entry.gname = gname;
  const atime = recTime('atime');
  if (atime !== undefined) entry.atime = atime;
  if (type === 'symlink') entry.linkname = linkname;
  if (type === 'hardlink') {
    try {
      entry.linkname = opts.clean === false ? linkname : cleanPath(linkname);
    } catch (err) {
      throw new StrataError('UNSAFE_PATH', `${what}: entry ${JSON.stringify(name)} links to ${JSON.stringify(linkname)} outside the root`, { cause: err });
    }
  }
  if (type === 'char' || type === 'block') {
    entry.devmajor = num(h, 329, 8, 'devmajor', name);
    entry.devminor = num(h, 337, 8, 'devminor', name);
  }
  if (xattrs !== undefined) entry.xattrs = xattrs;
  if (st.pax.size > 0) st.pax = new Map();
  st.longName = undefined;
  st.longLink = undefined;
  return { kind: 'entry', entry, dataSize };
}

/**
 * Read a tar stream entry by entry. Handles ustar, GNU (long names `L`/`K`, base-256 numbers),
 * PAX local and global headers (path, linkpath, size, uid, gid, uname, gname, mtime, atime,
 * `SCHILY.xattr.*`). Paths are cleaned; a `..` escape is an UNSAFE_PATH error naming the entry.
 */
export async function* readTar(src: AsyncIterable<Uint8Array>, opts: ReadTarOptions = {}): AsyncGenerator<TarReadEntry> {
  const what = opts.what ?? 'tar stream';
  const r = byteReader(src, what);
  const st = newState();
  try {
    for (;;) {
      const h = await r.exact(512);
      if (!h) return; // a tar without end blocks: accepted, like GNU tar
      // End of archive (one or two zero blocks); whatever follows is padding.
      if (isZeroBlock(h)) return;
      const step = decodeBlock(h, st, opts, what);
      if (step.kind === 'meta') {
        const data = await r.exact(step.padded);
        if (step.padded > 0 && (!data || data.length < step.padded)) throw new StrataError('INVALID_TAR', `${what} is truncated`);
        takeMeta(st, step.flag, (data ?? Buffer.alloc(0)).subarray(0, step.size));
        continue;
      }
      if (step.kind === 'skip') {
        await r.skip(step.padded);
        continue;
      }
      const { entry, dataSize } = step;
      const type = entry.type;
      const name = entry.name ?? entry.path;
      // Only regular files carry data we hand out; anything else with a size is skipped.
      let left = dataSize;
      let consumed = false;
      const bodySize = type === 'file' ? dataSize : 0;
      const body: AsyncIterable<Buffer> = {
        [Symbol.asyncIterator]: () => {
          if (consumed) throw new Error(`body of ${name} read twice`);
          consumed = true;
          let mine = bodySize;
          return {
            async next(): Promise<IteratorResult<Buffer>> {
              if (mine <= 0) return { done: true, value: undefined };
              const c = await r.chunk(mine);
              mine -= c.length;
              left -= c.length;
              return { done: false, value: c };
            },
          };
        },
      };
      yield { entry, body, offset: r.position() };
      await r.skip(left + (Math.ceil(dataSize / 512) * 512 - dataSize));
    }
  } finally {
    await r.close();
  }
}

/** An entry and the byte offset of its content in the tar file. */
export interface IndexedTarEntry extends TarEntry {
  offset: number;
}

/** Where one entry sits in a tar file. */
export interface TarFileEntry {
  entry: TarEntry;
  /** The first byte of the entry's first header block (a PAX or GNU long-name header, if any). */
  start: number;
  /** The first byte of its content. */
  offset: number;
  /** Bytes of content recorded in the header (what follows `offset`, before the padding). */
  dataSize: number;
  /** The byte after its padded content: where the next entry starts. */
  end: number;
}

/** Entries of a tar file read in order, jumping over contents, with views of its bytes. */
export interface TarFileCursor {
  next(): TarFileEntry | undefined;
  /**
   * Read on from byte `at`, which must be where an entry's first header block begins (the `end`
   * of an entry `next` gave, or 0). What global PAX records said still holds.
   */
  seek(at: number): void;
  /** Bytes `[at, at + len)` of the file (`len` ≤ the window), valid until the next call; undefined past the end. */
  view(at: number, len: number): Buffer | undefined;
  close(): void;
}

/**
 * Positioned reads of an open tar file: `readAt` fills a buffer from an offset (short only at the
 * end of the file); `view` gives `len` bytes at `at` through one window of `window` bytes, read
 * again only when the bytes lie outside it (undefined past the end).
 */
function tarWindow(fd: number, window: number) {
  const readAt = (buf: Buffer, at: number) => {
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, at + got);
      if (n === 0) break;
      got += n;
    }
    return got;
  };
  const win = Buffer.allocUnsafe(window);
  let winStart = 0;
  let winLen = 0;
  const view = (at: number, len: number): Buffer | undefined => {
    if (len > win.length) throw new Error(`openTarFile: a view of ${len} bytes is larger than the window`);
    if (at < winStart || at + len > winStart + winLen) {
      winStart = at;
      winLen = readAt(win, at);
    }
    return at + len <= winStart + winLen ? win.subarray(at - winStart, at - winStart + len) : undefined;
  };
  return { readAt, view };
}

/**
 * The bytes of a tar file's regular files (with PAX sizes), from its headers alone: what Docker
 * counts as a layer's size. Leaner than walking it with `openTarFile` (no names or paths decoded,
 * nothing checked that a size does not need: a 20k-entry layer in a fraction of the time).
 * Throws INVALID_TAR for what is not a tar (a bad checksum) or does not add up (a size past the
 * end, a bad number).
 */
export function tarFileBytes(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const fileSize = fstatSync(fd).size;
    const { readAt, view } = tarWindow(fd, WINDOW);
    const st = newState();
    let total = 0;
    let pos = 0;
    for (;;) {
      const h = view(pos, 512);
      if (h === undefined) {
        if (pos < fileSize) throw new StrataError('INVALID_TAR', `${path} is truncated`);
        return total;
      }
      if (isZeroBlock(h)) return total;
      if (!checksumOk(h)) throw new StrataError('INVALID_TAR', `${path}: bad header checksum at byte ${pos}`);
      pos += 512;
      const flag = h[156];
      let size = num(h, 124, 12, 'size', '');
      if (flag === 0x78 || flag === 0x67 || flag === 0x4c || flag === 0x4b) {
        // x, g, L, K: the records say more about the next entry (or all of them)
        if (size > MAX_META) throw new StrataError('INVALID_TAR', `${path}: metadata record of ${size} bytes is too large`);
        const data = Buffer.alloc(size);
        if (readAt(data, pos) < size) throw new StrataError('INVALID_TAR', `${path} is truncated`);
        takeMeta(st, String.fromCharCode(flag), data);
        pos += Math.ceil(size / 512) * 512;
        continue;
      }
      if (st.pax.size > 0 || st.global.size > 0) {
        const v = (st.pax.get('size') ?? st.global.get('size'))?.toString('latin1');
        if (v !== undefined) {
          size = Number(v);
          if (!Number.isSafeInteger(size) || size < 0) throw new StrataError('INVALID_TAR', `${path}: an entry has a bad PAX size`);
        }
        if (st.pax.size > 0) st.pax = new Map();
      }
      // regular files ('0', NUL, '7'); hard links, symlinks, directories and devices count 0
      if (flag === 0x30 || flag === 0 || flag === 0x37) total += size;
      // whatever its type, `size` bytes follow a header (0 for most): skipped as the full reader does
      pos += Math.ceil(size / 512) * 512;
      if (pos > fileSize) throw new StrataError('INVALID_TAR', `${path} is truncated`);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Read a tar file's entries in order without reading contents: headers come through a window of
 * `window` bytes (default 64 KiB; the headers of small files sit a block or two apart, so one read
 * serves many), contents are jumped over. Same parsing and path rules as `readTar`.
 */
export function openTarFile(path: string, opts: ReadTarOptions & { window?: number } = {}): TarFileCursor {
  const what = opts.what ?? path;
  const fd = openSync(path, 'r');
  let fileSize: number;
  try {
    fileSize = fstatSync(fd).size;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  const st = newState();
  const { readAt, view } = tarWindow(fd, opts.window ?? WINDOW);
  let pos = 0;
  let done = false;
  let closed = false;
  return {
    view,
    seek(at) {
      pos = at;
      done = false;
      st.pax = new Map();
    },
    next() {
      if (done) return undefined;
      const start = pos;
      for (;;) {
        const h = view(pos, 512);
        if (h === undefined) {
          if (pos < fileSize) throw new StrataError('INVALID_TAR', `${what} is truncated`);
          done = true;
          return undefined;
        }
        if (isZeroBlock(h)) {
          done = true;
          return undefined;
        }
        pos += 512;
        const step = decodeBlock(h, st, opts, what);
        // a record's padding must be there too, as readTar reads it
        if (step.kind !== 'entry' && pos + step.padded > fileSize) throw new StrataError('INVALID_TAR', `${what} is truncated`);
        if (step.kind === 'meta') {
          const data = Buffer.alloc(step.size);
          if (readAt(data, pos) < step.size) throw new StrataError('INVALID_TAR', `${what} is truncated`);
          takeMeta(st, step.flag, data);
          pos += step.padded;
          continue;
        }
        if (step.kind === 'skip') {
          pos += step.padded;
          continue;
        }
        const offset = pos;
        pos += Math.ceil(step.dataSize / 512) * 512;
        if (pos > fileSize) throw new StrataError('INVALID_TAR', `${what} is truncated`);
        return { entry: step.entry, start, offset, dataSize: step.dataSize, end: pos };
      }
    },
    close() {
      if (!closed) closeSync(fd);
      closed = true;
    },
  };
}

/**
 * Index a tar file without reading file contents: headers are read with synchronous positioned
 * reads and the data is jumped over. Same parsing and path rules as `readTar`.
 */
export function indexTarFile(path: string, opts: ReadTarOptions = {}): IndexedTarEntry[] {
  const out: IndexedTarEntry[] = [];
  const c = openTarFile(path, opts);
  try {
    for (let x = c.next(); x !== undefined; x = c.next()) {
      const ie = x.entry as IndexedTarEntry;
      ie.offset = x.offset;
      out.push(ie);
    }
  } finally {
    c.close();
  }
  return out;
}

const WINDOW = 64 * 1024;
