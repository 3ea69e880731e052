import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { readTar, writeTar, type TarWriteEntry } from '@strata/tar';
import { walkTree } from '@strata/layer';
import { readFileSync } from 'node:fs';

export async function tarBytes(entries: Iterable<TarWriteEntry> | AsyncIterable<TarWriteEntry>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of writeTar(entries)) chunks.push(c);
  return Buffer.concat(chunks);
}

export async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

/** One line per entry: path, type, mode, owner, size, content digest, link target. */
export type Row = string;

export async function rowsOfTar(buf: Buffer, opts: { mtime?: boolean } = {}): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const { entry: e, body } of readTar(Readable.from([buf]))) {
    const h = createHash('sha256');
    for await (const c of body) h.update(c);
    rows.push(row(e.path, e.type, e.mode, e.uid, e.gid, e.size, e.type === 'file' ? h.digest('hex').slice(0, 16) : '', e.linkname ?? '', opts.mtime ? Math.floor(e.mtime) : 0));
  }
  return rows;
}

export function rowsOfDir(dir: string, opts: { mtime?: boolean } = {}): Row[] {
  return [...walkTree(dir)].map((e) =>
    row(e.path, e.type, e.mode, e.uid, e.gid, e.size, e.type === 'file' ? createHash('sha256').update(readFileSync(e.sourcePath!)).digest('hex').slice(0, 16) : '', e.linkname ?? '', opts.mtime ? Math.floor(e.mtime) : 0),
  );
}

function row(...parts: Array<string | number>): Row {
  return parts.map((p) => (typeof p === 'number' && p > 7 && p < 0o10000 ? p.toString(8) : String(p))).join(' ');
}
