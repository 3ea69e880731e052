import { closeSync, createReadStream, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { sniffCompression } from '@strata/oci';
import { decompress } from '@strata/layer';
import { isTarHeader, readTar, type TarWriteEntry } from '@strata/tar';
import { StrataError } from '@strata/errors';
import type { Owner } from './chown';
import type { SourceNode } from './source-tree';

/** A read descriptor of a source node's file: through the tree's own opener (context files) or by path. */
function openNode(node: SourceNode): number {
  return node.openFile !== undefined ? node.openFile() : openSync(node.sourcePath!, 'r');
}

/** The first bytes of a file (to tell an archive by its content, never by its name). */
function head(node: SourceNode, n: number): Buffer {
  const fd = openNode(node);
  try {
    const b = Buffer.alloc(n);
    return b.subarray(0, readSync(fd, b, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

/** The first 512 bytes of a stream, or fewer when it ends first. */
async function firstBlock(src: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let len = 0;
  for await (const c of src) {
    chunks.push(Buffer.from(c));
    len += c.length;
    if (len >= 512) break;
  }
  return Buffer.concat(chunks);
}

/**
 * ADD of a local archive: a tar (plain, gzip, bzip2, xz or zstd — detected by content, never by
 * name) is extracted under `dir`, keeping the archive's owners (BuildKit ignores `--chown` for
 * extracted archives; pass `owner` to override). Anything else is not an archive (undefined) and
 * is copied as a file. The archive is streamed once; file bodies go to `scratch` (a directory the
 * caller removes once the layer is written), so no archive is held in memory.
 */
export async function unpackArchive(node: SourceNode, dir: string, owner: Owner | undefined, scratch: string): Promise<TarWriteEntry[] | undefined> {
  if (!node.sourcePath) return undefined;
  const encoding = sniffCompression(head(node, 8));
  const open = () => decompress(createReadStream('', { fd: openNode(node), highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>, encoding, `ADD ${node.path}`);
  // Not a tar (or not decompressable): an ordinary file.
  try {
    if (!isTarHeader(await firstBlock(open()))) return undefined;
  } catch {
    return undefined;
  }
  const out: TarWriteEntry[] = [];
  const join = (p: string) => (dir === '' ? p : p === '.' ? dir : `${dir}/${p}`);
  mkdirSync(scratch, { recursive: true });
  try {
    for await (const { entry, body } of readTar(open(), { what: node.path })) {
      if (entry.path === '.') {
        for await (const _ of body) void _;
        continue;
      }
      const e: TarWriteEntry = {
        path: join(entry.path),
        type: entry.type,
        mode: entry.mode,
        uid: owner?.uid ?? entry.uid,
        gid: owner?.gid ?? entry.gid,
        size: entry.type === 'file' ? entry.size : 0,
        mtime: entry.mtime,
        linkname: entry.type === 'hardlink' && entry.linkname ? join(entry.linkname) : entry.linkname,
        devmajor: entry.devmajor,
        devminor: entry.devminor,
        xattrs: entry.xattrs,
      };
      if (entry.type === 'file') {
        const file = joinPath(scratch, String(out.length));
        const fd = openSync(file, 'wx', 0o600);
        try {
          for await (const c of body) for (let off = 0; off < c.length; ) off += writeSync(fd, c, off, c.length - off);
        } finally {
          closeSync(fd);
        }
        e.sourcePath = file;
      } else for await (const _ of body) void _;
      out.push(e);
    }
  } catch (err) {
    if (err instanceof StrataError && err.code !== 'INVALID_TAR') throw err;
    throw new StrataError('INVALID_TAR', `ADD ${node.path}: ${(err as Error).message}`, { cause: err });
  }
  return out;
}
