import { StrataError } from '@strata/errors';
import { encodeEntryHeader, type TarWriteEntry } from '@strata/tar';

// Image archives (docker-archive, OCI archives) are tars of a few fixed-shape members; their
// headers come from @strata/tar's one encoder. Members are owned by root, mode 0644 (0755 for
// directories), mtime 0, so an archive of the same image is the same bytes.

const BLOCK = 512;

function member(path: string, type: 'file' | 'dir', size: number): Buffer {
  const e: TarWriteEntry = { path, type, mode: type === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, uname: 'root', gname: 'root', size, mtime: 0 };
  return encodeEntryHeader(e);
}

function padding(size: number): Buffer {
  const rem = size % BLOCK;
  return Buffer.alloc(rem === 0 ? 0 : BLOCK - rem);
}

/** A file member of `size` bytes whose content streams from `body`; a wrong length is an error. */
export async function* tarMember(name: string, size: number, body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield member(name, 'file', size);
  let n = 0;
  for await (const chunk of body) {
    n += chunk.byteLength;
    if (n > size) break;
    yield chunk;
  }
  if (n !== size) throw new StrataError('SIZE_MISMATCH', `archive member ${name}: got ${n} bytes, expected ${size}`);
  const pad = padding(size);
  if (pad.length) yield pad;
}

export function* tarBytes(name: string, bytes: Uint8Array | string): Generator<Uint8Array> {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  yield member(name, 'file', buf.byteLength);
  yield buf;
  const pad = padding(buf.byteLength);
  if (pad.length) yield pad;
}

export function* tarDir(name: string): Generator<Uint8Array> {
  yield member(name.replace(/\/+$/, ''), 'dir', 0);
}

/** The two zero blocks that end a tar. */
export function* tarEnd(): Generator<Uint8Array> {
  yield Buffer.alloc(2 * BLOCK);
}
