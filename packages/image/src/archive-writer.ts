import { StrataError } from '@strata/errors';
import { tarHeader, tarPadding, TAR_END } from './tar-writer';

/** Builds an archive as a byte stream; members are yielded in the order they are added. */
export async function* tarMember(name: string, size: number, body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield tarHeader({ name, size });
  let n = 0;
  for await (const chunk of body) {
    n += chunk.byteLength;
    if (n > size) break;
    yield chunk;
  }
  if (n !== size) throw new StrataError('SIZE_MISMATCH', `archive member ${name}: got ${n} bytes, expected ${size}`);
  const pad = tarPadding(size);
  if (pad.length) yield pad;
}

export function* tarBytes(name: string, bytes: Uint8Array | string): Generator<Uint8Array> {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  yield tarHeader({ name, size: buf.byteLength });
  yield buf;
  const pad = tarPadding(buf.byteLength);
  if (pad.length) yield pad;
}

export function* tarDir(name: string): Generator<Uint8Array> {
  yield tarHeader({ name, type: 'directory' });
}

export function* tarEnd(): Generator<Uint8Array> {
  yield TAR_END;
}
