// A minimal ustar writer for image archives: the names we write are short and fixed in shape
// (`blobs/sha256/<hex>`, `<id>/layer.tar`), so no PAX or GNU long-name records are needed.
// Sizes beyond ustar's 8 GiB use the base-256 encoding that GNU tar and Go read.

export interface TarHeader {
  name: string;
  type?: 'file' | 'directory' | 'symlink';
  size?: number;
  mode?: number;
  linkname?: string;
  /** Seconds since the epoch; 0 keeps archives reproducible. */
  mtime?: number;
}

const BLOCK = 512;
export const TAR_END = Buffer.alloc(2 * BLOCK);

function octal(buf: Buffer, off: number, len: number, value: number): void {
  buf.write(`${value.toString(8).padStart(len - 1, '0')}\0`, off, len, 'ascii');
}

function sizeField(buf: Buffer, off: number, value: number): void {
  if (value <= 0o77777777777) return octal(buf, off, 12, value);
  buf[off] = 0x80;
  let v = BigInt(value);
  for (let i = 11; i >= 1; i--) {
    buf[off + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function splitName(name: string): [prefix: string, name: string] {
  if (Buffer.byteLength(name) <= 100) return ['', name];
  const i = name.lastIndexOf('/', 155);
  if (i <= 0 || Buffer.byteLength(name.slice(i + 1)) > 100) throw new Error(`tar name too long: ${name}`);
  return [name.slice(0, i), name.slice(i + 1)];
}

export function tarHeader(h: TarHeader): Buffer {
  const buf = Buffer.alloc(BLOCK);
  const type = h.type ?? 'file';
  const [prefix, name] = splitName(type === 'directory' && !h.name.endsWith('/') ? `${h.name}/` : h.name);
  buf.write(name, 0, 100, 'utf8');
  octal(buf, 100, 8, h.mode ?? (type === 'directory' ? 0o755 : 0o644));
  octal(buf, 108, 8, 0);
  octal(buf, 116, 8, 0);
  sizeField(buf, 124, type === 'file' ? (h.size ?? 0) : 0);
  octal(buf, 136, 12, h.mtime ?? 0);
  buf.write('        ', 148, 8, 'ascii');
  buf.write(type === 'directory' ? '5' : type === 'symlink' ? '2' : '0', 156, 1, 'ascii');
  if (h.linkname) buf.write(h.linkname, 157, 100, 'utf8');
  buf.write('ustar\x0000', 257, 8, 'binary');
  buf.write('root', 265, 32, 'ascii');
  buf.write('root', 297, 32, 'ascii');
  if (prefix) buf.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += buf[i];
  buf.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return buf;
}

/** Zero bytes that pad a member of `size` bytes to the block size. */
export function tarPadding(size: number): Buffer {
  const rem = size % BLOCK;
  return rem === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rem);
}

/** Whether a 512-byte block is a tar header (its checksum matches), for telling tars from other files. */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.length < BLOCK) return false;
  const field = Buffer.from(block.subarray(148, 156)).toString('ascii').replace(/[\0 ]+$/, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  return sum === parseInt(field, 8);
}
