import { closeSync, openSync, readSync } from 'node:fs';
import { StrataError } from '@strata/errors';
import type { EntryType, TarEntry } from './entry';

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
}

const FLAGS: Record<EntryType, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };
const ZERO = Buffer.alloc(1024);
const CHUNK = 64 * 1024;

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}

function fitsOctal(n: number, width: number): boolean {
  return Number.isInteger(n) && n >= 0 && n < 8 ** (width - 1);
}

function octal(buf: Buffer, off: number, width: number, n: number): void {
  buf.write(`${n.toString(8).padStart(width - 1, '0')}\0`, off, width, 'latin1');
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
  flag: string;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  prefix: string;
}

function encodeHeader(h: Header): Buffer {
  const b = Buffer.alloc(512);
  b.write(h.name, 0, 100, 'utf8');
  octal(b, 100, 8, h.mode);
  octal(b, 108, 8, h.uid);
  octal(b, 116, 8, h.gid);
  octal(b, 124, 12, h.size);
  octal(b, 136, 12, h.mtime);
  b.fill(0x20, 148, 156);
  b.write(h.flag, 156, 1, 'latin1');
  b.write(h.linkname, 157, 100, 'utf8');
  b.write('ustar\x0000', 257, 8, 'latin1');
  b.write(h.uname, 265, 32, 'utf8');
  b.write(h.gname, 297, 32, 'utf8');
  octal(b, 329, 8, h.devmajor);
  octal(b, 337, 8, h.devminor);
  b.write(h.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i];
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}

/** The header blocks of one entry (a PAX header first when ustar cannot say it all). */
export function encodeEntryHeader(e: TarWriteEntry, opts: WriteTarOptions = {}): Buffer {
  let mtime = e.mtime;
  if (opts.clampMtime !== undefined && mtime > opts.clampMtime) mtime = opts.clampMtime;
  if (opts.subsecond === false) mtime = Math.floor(mtime);
  const size = e.type === 'file' ? e.size : 0;
  const name = e.path === '.' ? './' : e.type === 'dir' ? `${e.path}/` : e.path;
  const linkname = e.type === 'symlink' || e.type === 'hardlink' ? (e.linkname ?? '') : '';
  const uname = e.uname ?? '';
  const gname = e.gname ?? '';
  const records: Buffer[] = [];
  const split = isAscii(name) ? splitUstar(name) : undefined;
  if (!split) records.push(paxRecord('path', Buffer.from(name, 'utf8')));
  if (linkname.length > 100 || !isAscii(linkname)) records.push(paxRecord('linkpath', Buffer.from(linkname, 'utf8')));
  if (!fitsOctal(size, 12)) records.push(paxRecord('size', Buffer.from(String(size))));
  if (!fitsOctal(e.uid, 8)) records.push(paxRecord('uid', Buffer.from(String(e.uid))));
  if (!fitsOctal(e.gid, 8)) records.push(paxRecord('gid', Buffer.from(String(e.gid))));
  if (!Number.isInteger(mtime) || !fitsOctal(mtime, 12)) records.push(paxRecord('mtime', Buffer.from(formatTime(mtime))));
  if (uname.length > 32 || !isAscii(uname)) records.push(paxRecord('uname', Buffer.from(uname, 'utf8')));
  if (gname.length > 32 || !isAscii(gname)) records.push(paxRecord('gname', Buffer.from(gname, 'utf8')));
  if (e.xattrs) {
    for (const k of Object.keys(e.xattrs).sort()) records.push(paxRecord(`SCHILY.xattr.${k}`, Buffer.from(e.xattrs[k])));
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
  const main = encodeHeader(base);
  if (records.length === 0) return main;
  const payload = Buffer.concat(records);
  const paxHeader = encodeHeader({
    ...base,
    // Like Go's archive/tar: a fixed, recognisable name; readers use the records.
    name: asciiTail(`PaxHeaders.0/${short}`, 100),
    prefix: '',
    size: payload.length,
    flag: 'x',
    linkname: '',
  });
  const pad = (512 - (payload.length % 512)) % 512;
  return Buffer.concat([paxHeader, payload, ZERO.subarray(0, pad), main]);
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
    const fd = openSync(e.sourcePath, 'r');
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
 * Write a tar: entries in the order given (sort them with `comparePaths` for a deterministic
 * layer), normalised headers (ustar; PAX only for what ustar cannot say), end-of-archive blocks.
 * The output is produced as it is read: nothing is held beyond one 64 KiB chunk.
 */
const OUT = 1024 * 1024;

export async function* writeTar(entries: Iterable<TarWriteEntry> | AsyncIterable<TarWriteEntry>, opts: WriteTarOptions = {}): AsyncGenerator<Uint8Array> {
  // Output goes into 1 MiB buffers: headers are copied in and file contents are read from disk
  // straight into them, so a tree of small files costs one consumer write per MiB. A buffer is
  // never reused once handed out (the consumer may still be writing it).
  let out = Buffer.allocUnsafe(OUT);
  let pos = 0;
  const full = () => {
    const b = out.subarray(0, pos);
    out = Buffer.allocUnsafe(OUT);
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
  for await (const e of entries) {
    yield* put(encodeEntryHeader(e, opts));
    if (e.type !== 'file') continue;
    if (e.sourcePath !== undefined && e.data === undefined && e.open === undefined) {
      const fd = e.sourceFd ?? openSync(e.sourcePath, 'r');
      try {
        let done = 0;
        const base = e.sourceOffset ?? 0;
        while (done < e.size) {
          if (pos === OUT) yield full();
          const n = readSync(fd, out, pos, Math.min(e.size - done, OUT - pos), base + done);
          if (n === 0) throw new StrataError('IO_ERROR', `${e.path}: got ${done} bytes of content, header says ${e.size} (file changed while reading?)`);
          opts.onData?.(e, out.subarray(pos, pos + n));
          pos += n;
          done += n;
        }
      } finally {
        if (e.sourceFd === undefined) closeSync(fd);
      }
    } else {
      for await (const c of fileBody(e, opts)) yield* put(c);
    }
    const pad = (512 - (e.size % 512)) % 512;
    if (pad) yield* put(ZERO.subarray(0, pad));
  }
  yield* put(ZERO);
  yield full();
}
