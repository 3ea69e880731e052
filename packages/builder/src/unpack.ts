import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { sniffCompression } from '@strata/oci';
import { readTar, type TarWriteEntry } from '@strata/tar';
import { StrataError } from '@strata/errors';
import type { Owner } from './chown';
import type { SourceNode } from './source-tree';

function decompress(bytes: Buffer): Buffer | undefined {
  const c = sniffCompression(bytes.subarray(0, 8));
  if (c === 'none') return bytes;
  if (c === 'gzip') {
    try {
      return gunzipSync(bytes);
    } catch {
      return undefined;
    }
  }
  const tool = c === 'bzip2' ? 'bzip2' : c === 'xz' ? 'xz' : 'zstd';
  const r = spawnSync(tool, ['-dc'], { input: bytes, maxBuffer: 1 << 30 });
  if (r.status !== 0) return undefined;
  return r.stdout;
}

function isTar(b: Buffer): boolean {
  return b.length >= 512 && b.subarray(257, 262).toString('latin1') === 'ustar';
}

/**
 * ADD of a local archive: a tar (plain, gzip, bzip2, xz — detected by content, never by name) is
 * extracted under `dir`, keeping the archive's owners (BuildKit ignores `--chown` for extracted
 * archives; pass `owner` to override). Anything else is
 * not an archive (undefined) and is copied as a file.
 */
export async function unpackArchive(node: SourceNode, dir: string, owner: Owner | undefined): Promise<TarWriteEntry[] | undefined> {
  if (!node.sourcePath) return undefined;
  const raw = readFileSync(node.sourcePath);
  const tar = decompress(raw);
  if (!tar || !isTar(tar)) return undefined;
  const out: TarWriteEntry[] = [];
  const join = (p: string) => (dir === '' ? p : p === '.' ? dir : `${dir}/${p}`);
  try {
    for await (const { entry, body } of readTar((async function* () { yield tar; })(), { what: node.path })) {
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c);
      if (entry.path === '.') continue;
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
      if (entry.type === 'file') e.data = Buffer.concat(chunks);
      out.push(e);
    }
  } catch (err) {
    throw new StrataError('INVALID_TAR', `ADD ${node.path}: ${(err as Error).message}`);
  }
  return out;
}
