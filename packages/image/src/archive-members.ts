import { closeSync, createReadStream, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { StrataError, isStrataError } from '@strata/errors';
import { cleanPath, isTarHeader, readTar } from '@strata/tar';
import { decompress } from '@strata/layer';
import { peek, sniff } from './decode';
import type { Staging, StagedBlob } from './staging';

/** JSON documents (manifests, configs, index) are kept in memory up to this size. */
const JSON_LIMIT = 32 * 1024 * 1024;
/** Anything this small is kept in memory whatever it is (VERSION files, empty layers). */
const SMALL_LIMIT = 4096;
/** All in-memory members together; past it, members go to the staging area too (hostile archives). */
const MEMORY_BUDGET = 256 * 1024 * 1024;

/** One file of an image archive: in memory (small JSON), staged (blob candidates), or on disk (a layout directory). */
export type Member =
  | { kind: 'bytes'; bytes: Buffer }
  | { kind: 'staged'; blob: StagedBlob }
  | { kind: 'file'; path: string; size: number };

/** The files of an archive by clean relative path, links resolved. */
export interface Members {
  get(name: string): Member | undefined;
  has(name: string): boolean;
  /** How the archive was read, for messages. */
  readonly what: string;
}

/** A member name made relative and clean (@strata/tar's cleanPath); absolute names and `..` escapes are refused, as Docker does. */
export function cleanMemberName(name: string): string {
  if (name.startsWith('/')) throw new StrataError('UNSAFE_PATH', `archive member "${name}" has an absolute path`);
  let clean: string;
  try {
    clean = cleanPath(name);
  } catch {
    throw new StrataError('UNSAFE_PATH', `archive member "${name}" escapes the archive root`);
  }
  return clean === '.' ? '' : clean;
}

function resolveLink(from: string, target: string, symbolic: boolean): string {
  if (target.startsWith('/')) throw new StrataError('UNSAFE_PATH', `archive member "${from}" links to the absolute path "${target}"`);
  const joined = symbolic ? posix.normalize(posix.join(posix.dirname(from), target)) : posix.normalize(target);
  if (joined === '..' || joined.startsWith('../')) throw new StrataError('UNSAFE_PATH', `archive member "${from}" links outside the archive ("${target}")`);
  return cleanMemberName(joined);
}

function membersOf(files: Map<string, Member>, links: Map<string, string>, what: string): Members {
  const get = (name: string): Member | undefined => {
    let n = cleanMemberName(name);
    for (let hops = 0; hops < 16; hops++) {
      const m = files.get(n);
      if (m) return m;
      const next = links.get(n);
      if (next === undefined) return undefined;
      n = next;
    }
    throw new StrataError('INVALID_ARCHIVE', `${what}: too many levels of links at "${name}"`);
  };
  return { get, has: (n) => get(n) !== undefined, what };
}

function looksLikeJson(head: Buffer): boolean {
  for (const b of head) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
    return b === 0x7b || b === 0x5b; // { or [
  }
  return false;
}

/**
 * Read an archive tar once, front to back. Small JSON members stay in memory; every other file
 * member streams into the staging area while being hashed (and decompressed if it is gzip/zstd),
 * so no layer is ever held in memory and nothing is read twice.
 */
export async function readArchiveStream(input: AsyncIterable<Uint8Array>, staging: Staging, what: string): Promise<Members> {
  // `docker load` also takes a compressed archive (`docker save | gzip`).
  const sniffed = await sniff(input);
  const plain = decompress(sniffed.stream, sniffed.encoding, what);
  const { head, rest } = await peek(plain, 512);
  if (head.length === 0) throw new StrataError('INVALID_ARCHIVE', `${what} is empty, not an image archive`);
  if (!isTarHeader(head.subarray(0, 512))) throw new StrataError('INVALID_ARCHIVE', `${what} is not a tar archive`);

  const files = new Map<string, Member>();
  const links = new Map<string, string>();
  let inMemory = 0;
  try {
    for await (const { entry, body } of readTar(rest, { what, clean: false })) {
      const name = cleanMemberName(entry.name ?? entry.path);
      if (entry.type === 'file') {
        const size = entry.size;
        const { head: first, rest: content } = await peek(body, Math.min(size, 64));
        if (inMemory + size <= MEMORY_BUDGET && (size <= SMALL_LIMIT || (size <= JSON_LIMIT && looksLikeJson(first)))) {
          inMemory += size;
          const chunks: Buffer[] = [];
          for await (const c of content) chunks.push(Buffer.from(c));
          files.set(name, { kind: 'bytes', bytes: Buffer.concat(chunks) });
        } else {
          files.set(name, { kind: 'staged', blob: await staging.stage(content, `${what}: ${name}`) });
        }
        links.delete(name);
      } else if (entry.type === 'symlink' || entry.type === 'hardlink') {
        links.set(name, resolveLink(name, entry.linkname ?? '', entry.type === 'symlink'));
        files.delete(name);
      }
    }
  } catch (err) {
    if (isStrataError(err, 'INVALID_TAR')) {
      const truncated = /truncated/.test(err.message);
      throw new StrataError('INVALID_ARCHIVE', truncated ? `${what} is truncated` : `${what} is not a valid tar archive (${err.message})`, { cause: err });
    }
    throw err;
  }
  return membersOf(files, links, what);
}

/** An image layout (or an unpacked docker-archive) in a directory: files are read when asked for. */
export function readArchiveDirectory(dir: string): Members {
  const what = dir;
  const files = new Map<string, Member>();
  const get = (name: string): Member | undefined => {
    const n = cleanMemberName(name);
    const hit = files.get(n);
    if (hit) return hit;
    const p = join(dir, n);
    let st;
    try {
      st = statSync(p);
    } catch {
      return undefined;
    }
    if (!st.isFile()) return undefined;
    const m: Member = st.size <= JSON_LIMIT && looksLikeJson(readHead(p)) ? { kind: 'bytes', bytes: readFileSync(p) } : { kind: 'file', path: p, size: st.size };
    files.set(n, m);
    return m;
  };
  return { get, has: (n) => get(n) !== undefined, what };
}

function readHead(p: string): Buffer {
  const fd = openSync(p, 'r');
  try {
    const b = Buffer.alloc(64);
    return b.subarray(0, readSync(fd, b, 0, 64, 0));
  } finally {
    closeSync(fd);
  }
}

/** A member's bytes, for JSON documents. */
export function memberBytes(m: Member, name: string, what: string): Buffer {
  const size = m.kind === 'bytes' ? m.bytes.length : m.kind === 'staged' ? m.blob.size : m.size;
  if (m.kind === 'staged' && m.blob.encoding !== 'none') throw new StrataError('INVALID_ARCHIVE', `${what}: "${name}" is compressed, expected JSON`);
  if (size > JSON_LIMIT) throw new StrataError('INVALID_ARCHIVE', `${what}: "${name}" is too large for a JSON document (${size} bytes)`);
  if (m.kind === 'bytes') return m.bytes;
  return readFileSync(m.kind === 'staged' ? m.blob.file : m.path);
}

const stagedLater = new WeakMap<Member, Promise<StagedBlob>>();

/** A member as a staged, uncompressed blob (staging it now, once, if it was kept in memory or on disk). */
export function memberBlob(m: Member, staging: Staging, what: string): Promise<StagedBlob> {
  if (m.kind === 'staged') return Promise.resolve(m.blob);
  let p = stagedLater.get(m);
  if (!p) {
    const src =
      m.kind === 'bytes'
        ? (async function* () {
            if (m.bytes.length) yield m.bytes;
          })()
        : createReadStream(m.path, { highWaterMark: 1024 * 1024 });
    p = staging.stage(src, what);
    stagedLater.set(m, p);
  }
  return p;
}
