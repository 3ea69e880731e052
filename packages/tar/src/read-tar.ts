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
  const s = b.subarray(off, off + len);
  const z = s.indexOf(0);
  return s.subarray(0, z < 0 ? len : z).toString('utf8');
}

function num(b: Buffer, off: number, len: number, field: string, name: string): number {
  const s = b.subarray(off, off + len);
  if (s[0] & 0x80) {
    // GNU base-256: big-endian two's complement, top bit of the first byte marks it.
    if (s[0] === 0xff) throw new StrataError('INVALID_TAR', `entry ${JSON.stringify(name)}: negative ${field}`);
    let v = s[0] & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + s[i];
    return v;
  }
  let i = 0;
  while (i < len && (s[i] === 0x20 || s[i] === 0)) i++;
  let v = 0;
  let digits = 0;
  for (; i < len; i++) {
    const c = s[i];
    if (c === 0x20 || c === 0) break;
    if (c < 0x30 || c > 0x37) throw new StrataError('INVALID_TAR', `entry ${JSON.stringify(name)}: bad octal ${field}`);
    v = v * 8 + (c - 0x30);
    digits++;
  }
  return digits === 0 ? 0 : v;
}

function checksumOk(h: Buffer): boolean {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : h[i];
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  let want: number;
  try {
    want = num(h, 148, 8, 'checksum', '');
  } catch {
    return false;
  }
  return want === unsigned || want === signed;
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
  const magic = h.subarray(257, 263).toString('latin1');
  let name = rawName0;
  if (magic === 'ustar\0' && h[345] !== 0) name = `${str(h, 345, 155)}/${name}`;
  let linkname = str(h, 157, 100);
  const rec = (k: string) => st.pax.get(k) ?? st.global.get(k);
  const recStr = (k: string) => rec(k)?.toString('utf8');
  const recNum = (k: string) => {
    const v = recStr(k);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new StrataError('INVALID_TAR', `${what}: entry ${JSON.stringify(name)} has a bad PAX ${k}`);
    return n;
  };
  if (st.longName !== undefined) name = st.longName;
  if (st.longLink !== undefined) linkname = st.longLink;
  name = recStr('path') ?? name;
  linkname = recStr('linkpath') ?? linkname;
  let entrySize = recNum('size') ?? size;
  if (type !== 'file') entrySize = type === 'hardlink' || type === 'symlink' || type === 'dir' ? 0 : entrySize;
  const dataSize = recNum('size') ?? size;
  const xattrs: Record<string, Buffer> = {};
  let hasX = false;
  for (const src2 of [st.global, st.pax]) {
    for (const [k, v] of src2) {
      if (k.startsWith('SCHILY.xattr.')) {
        xattrs[k.slice('SCHILY.xattr.'.length)] = v;
        hasX = true;
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
    uid: recNum('uid') ?? num(h, 108, 8, 'uid', name),
    gid: recNum('gid') ?? num(h, 116, 8, 'gid', name),
    size: type === 'file' ? entrySize : 0,
    mtime: recNum('mtime') ?? num(h, 136, 12, 'mtime', name),
  };
  const uname = recStr('uname') ?? str(h, 265, 32);
  const gname = recStr('gname') ?? str(h, 297, 32);
  if (uname) entry.uname = uname;
  if (gname) entry.gname = gname;
  const atime = recNum('atime');
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
  if (hasX) entry.xattrs = xattrs;
  st.pax = new Map();
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

/**
 * Index a tar file without reading file contents: headers are read with synchronous positioned
 * reads and the data is jumped over. Same parsing and path rules as `readTar`.
 */
export function indexTarFile(path: string, opts: ReadTarOptions = {}): IndexedTarEntry[] {
  const what = opts.what ?? path;
  const fd = openSync(path, 'r');
  const out: IndexedTarEntry[] = [];
  try {
    const fileSize = fstatSync(fd).size;
    const st = newState();
    const readAt = (buf: Buffer, at: number) => {
      let got = 0;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, at + got);
        if (n === 0) break;
        got += n;
      }
      return got;
    };
    // Headers are read through a window: the headers of small files (most of a layer) sit a block
    // or two apart, so one read serves many of them instead of one read each.
    const win = Buffer.allocUnsafe(WINDOW);
    let winStart = 0;
    let winLen = 0;
    const blockAt = (at: number): Buffer | undefined => {
      if (at < winStart || at + 512 > winStart + winLen) {
        winStart = at;
        winLen = readAt(win, at);
        if (winLen === 0) return undefined;
        if (winLen < 512) throw new StrataError('INVALID_TAR', `${what} is truncated`);
      }
      return win.subarray(at - winStart, at - winStart + 512);
    };
    let pos = 0;
    for (;;) {
      const h = blockAt(pos);
      if (h === undefined || isZeroBlock(h)) break;
      pos += 512;
      const step = decodeBlock(h, st, opts, what);
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
      const ie = step.entry as IndexedTarEntry;
      ie.offset = pos;
      out.push(ie);
      pos += Math.ceil(step.dataSize / 512) * 512;
      if (pos > fileSize) throw new StrataError('INVALID_TAR', `${what} is truncated`);
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

const WINDOW = 64 * 1024;
