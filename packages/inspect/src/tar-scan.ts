// Reads only the headers of a tar (ustar, GNU long names, PAX), skipping file data: sizes and
// file counts of a layer without reading its bytes. From a file it seeks (positional reads);
// from a stream it still has to consume the data, but does not copy it.
import { closeSync, openSync, readSync } from 'node:fs';
import { StrataError } from '@strata/errors';

export type TarEntryType = 'file' | 'link' | 'symlink' | 'directory' | 'char' | 'block' | 'fifo' | 'other';

export interface TarHeader {
  path: string;
  type: TarEntryType;
  size: number;
  linkname?: string;
  mode: number;
  uid: number;
  gid: number;
}

const TYPES: Record<string, TarEntryType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '3': 'char', '4': 'block', '5': 'directory', '6': 'fifo' };

// Byte loops instead of subarray/indexOf/parseInt: they dominate a cold process otherwise.
function cstr(b: Buffer, start: number, len: number): string {
  let end = start;
  const max = Math.min(start + len, b.length);
  while (end < max && b[end] !== 0) end++;
  return b.toString('utf8', start, end);
}

function num(b: Buffer, start: number, len: number): number {
  if (b[start] & 0x80) {
    // GNU base-256 for big numbers
    let v = b[start] & 0x7f;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + b[i];
    return v;
  }
  let v = 0;
  for (let i = start; i < start + len; i++) {
    const c = b[i];
    if (c === 0) break;
    if (c >= 0x30 && c <= 0x37) v = v * 8 + (c - 0x30);
    else if (c !== 0x20 || v !== 0) break;
  }
  return v;
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(data.subarray(i, sp).toString(), 10);
    if (!len) break;
    const rec = data.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Incremental header parser: feed 512-byte header blocks and meta-entry bodies. */
class HeaderState {
  constructor(private readonly verify = true) {}
  private longName?: string;
  private longLink?: string;
  private pax: Record<string, string> = {};
  private global: Record<string, string> = {};

  /** A header block → how many data bytes follow, and whether the body is metadata we need. */
  header(b: Buffer): { size: number; meta?: 'L' | 'K' | 'x' | 'g'; entry?: TarHeader } {
    if (this.verify) {
      const sum = num(b, 148, 8);
      let check = 8 * 32;
      for (let i = 0; i < 148; i++) check += b[i];
      for (let i = 156; i < 512; i++) check += b[i];
      if (sum !== check) throw new StrataError('INVALID_TAR', 'tar header checksum mismatch');
    }
    const flag = String.fromCharCode(b[156]);
    const size = num(b, 124, 12);
    if (flag === 'L' || flag === 'K' || flag === 'x' || flag === 'g') {
      // Long names and PAX records are small; a huge one is a hostile or corrupt tar.
      if (size > MAX_META) throw new StrataError('INVALID_TAR', `tar ${flag} header of ${size} bytes (limit ${MAX_META})`);
      return { size, meta: flag };
    }
    const magic = b.toString('latin1', 257, 263);
    let name = cstr(b, 0, 100);
    if (magic === 'ustar\0') {
      const prefix = cstr(b, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    const pax = { ...this.global, ...this.pax };
    const path = pax.path ?? this.longName ?? name;
    const linkname = pax.linkpath ?? this.longLink ?? cstr(b, 157, 100);
    const realSize = pax.size !== undefined ? Number(pax.size) : size;
    this.pax = {};
    this.longName = this.longLink = undefined;
    const type = TYPES[flag] ?? 'other';
    const entry: TarHeader = { path, type, size: type === 'file' ? realSize : 0, mode: num(b, 100, 8), uid: pax.uid ? Number(pax.uid) : num(b, 108, 8), gid: pax.gid ? Number(pax.gid) : num(b, 116, 8) };
    if (linkname && (type === 'link' || type === 'symlink')) entry.linkname = linkname;
    return { size: type === 'directory' || type === 'link' || type === 'symlink' ? 0 : realSize, entry };
  }

  meta(kind: 'L' | 'K' | 'x' | 'g', data: Buffer): void {
    if (kind === 'L') this.longName = cstr(data, 0, data.length);
    else if (kind === 'K') this.longLink = cstr(data, 0, data.length);
    else if (kind === 'x') this.pax = parsePax(data);
    else this.global = { ...this.global, ...parsePax(data) };
  }
}

const pad512 = (n: number) => Math.ceil(n / 512) * 512;
const MAX_META = 1 << 20;

export interface ScanOptions {
  /**
   * Check each header's checksum (default true). Content-addressed blobs whose digest was
   * verified when stored may skip it: in a cold process the check is most of the scan's time.
   */
  verify?: boolean;
}

/** Headers of a tar file, by seeking over the data (headers read through a 64 KiB window). */
export function scanTarFile(path: string, opts: ScanOptions = {}): TarHeader[] {
  const fd = openSync(path, 'r');
  try {
    const out: TarHeader[] = [];
    const st = new HeaderState(opts.verify ?? true);
    const win = Buffer.alloc(64 * 1024);
    let winPos = 0;
    let winLen = 0;
    /** `len` bytes at `pos`, from the window when they are in it. */
    const at = (pos: number, len: number): Buffer => {
      if (pos < winPos || pos + len > winPos + winLen) {
        if (len > win.length) {
          const big = Buffer.alloc(len);
          const n = readSync(fd, big, 0, len, pos);
          return big.subarray(0, n);
        }
        winPos = pos;
        winLen = readSync(fd, win, 0, win.length, pos);
      }
      const start = pos - winPos;
      return win.subarray(start, Math.min(start + len, winLen));
    };
    let pos = 0;
    for (;;) {
      const block = at(pos, 512);
      if (block.length === 0) break;
      if (block.length < 512) throw new StrataError('INVALID_TAR', `${path}: truncated tar header`);
      pos += 512;
      if (isZero(block)) break;
      const h = st.header(block);
      if (h.meta) {
        const data = Buffer.from(at(pos, h.size));
        if (data.length < h.size) throw new StrataError('INVALID_TAR', `${path}: truncated tar`);
        st.meta(h.meta, data);
      } else if (h.entry) out.push(h.entry);
      pos += pad512(h.size);
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** Headers of a tar stream (the data is consumed and dropped). */
export async function scanTarStream(src: AsyncIterable<Uint8Array>): Promise<TarHeader[]> {
  const out: TarHeader[] = [];
  const st = new HeaderState();
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let skip = 0;
  let want: { kind: 'header' } | { kind: 'meta'; meta: 'L' | 'K' | 'x' | 'g'; size: number; padded: number } = { kind: 'header' };
  let done = false;
  for await (const chunk of src) {
    if (done) continue;
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (buf.length && !done) {
      if (skip) {
        const n = Math.min(skip, buf.length);
        skip -= n;
        buf = buf.subarray(n);
        continue;
      }
      const need = want.kind === 'header' ? 512 : want.padded;
      const take = Math.min(need - pendingLen, buf.length);
      pending.push(buf.subarray(0, take));
      pendingLen += take;
      buf = buf.subarray(take);
      if (pendingLen < need) break;
      const block = Buffer.concat(pending, pendingLen);
      pending = [];
      pendingLen = 0;
      if (want.kind === 'meta') {
        st.meta(want.meta, block.subarray(0, want.size));
        want = { kind: 'header' };
        continue;
      }
      if (isZero(block)) {
        done = true;
        break;
      }
      const h = st.header(block);
      if (h.meta) want = { kind: 'meta', meta: h.meta, size: h.size, padded: pad512(h.size) };
      else {
        if (h.entry) out.push(h.entry);
        skip = pad512(h.size);
      }
    }
  }
  if (!done && (pendingLen || skip || want.kind === 'meta')) throw new StrataError('INVALID_TAR', 'truncated tar stream');
  return out;
}
