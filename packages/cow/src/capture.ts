import { createReadStream, createWriteStream, lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { Hasher, type Digest } from '@strata/oci';
import { entryFromStat, layerFromUncompressed, type Change, type Layer } from '@strata/layer';
import { comparePaths, joinRel, writeTar, WHITEOUT_OPAQUE, WHITEOUT_PREFIX, type TarWriteEntry } from '@strata/tar';
import { readTreeXattrs } from './xattrs';

/** xattrs overlayfs keeps for itself in an upper dir; never part of a layer. */
const OVERLAY_XATTR = /^trusted\.overlay\./;

function isWhiteoutDevice(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

function sortedNames(abs: string): string[] {
  return readdirSync(abs).sort((a, b) => comparePaths(a, b));
}

/**
 * The changes of a container as `docker diff` reports them for overlay2 (moby
 * `archive.OverlayChanges`): walk the upper dir in lexical order; a 0/0 char device is `D`,
 * an opaque directory that exists below is `D` too; an entry that exists in a lower dir is `C`
 * (a directory only when its size, mode or mtime differ), otherwise `A`; the parent of an added
 * or deleted path is listed as `C` right before it unless already listed.
 */
export function upperChanges(upperdir: string, lowerdirs: readonly string[], xattrs = readTreeXattrs(upperdir)): Change[] {
  const changes: Change[] = [];
  const changedDirs = new Set<string>();
  const statLower = (rel: string): Stats | undefined => {
    for (const l of lowerdirs) {
      try {
        // os.Stat in moby: follows symlinks.
        return statSync(join(l, rel));
      } catch {
        // not in this layer
      }
    }
    return undefined;
  };
  const visit = (rel: string, abs: string) => {
    for (const name of sortedNames(abs)) {
      const crel = joinRel(rel, name);
      const cabs = join(abs, name);
      const st = lstatSync(cabs);
      const path = `/${crel}`;
      let kind: Change['kind'] | undefined;
      if (isWhiteoutDevice(st)) kind = 'delete';
      else if (st.isDirectory() && xattrs.get(crel)?.['trusted.overlay.opaque']?.toString() === 'y' && statLower(crel)) kind = 'delete';
      else {
        kind = 'add';
        const lower = statLower(crel);
        if (lower) {
          if (lower.isDirectory() && st.isDirectory() && lower.size === st.size && (lower.mode & 0o7777) === (st.mode & 0o7777) && lower.mtimeMs === st.mtimeMs) {
            kind = undefined;
          } else kind = 'modify';
        }
      }
      if (kind) {
        if (st.isDirectory()) changedDirs.add(path);
        if (kind === 'add' || kind === 'delete') {
          const parent = rel === '.' || rel === '' ? '/' : `/${rel}`;
          if (parent !== '/' && !changedDirs.has(parent)) {
            changes.push({ path: parent, kind: 'modify' });
            changedDirs.add(parent);
          }
        }
        changes.push({ path, kind });
      }
      if (st.isDirectory()) visit(crel, cabs);
    }
  };
  visit('.', upperdir);
  return changes;
}

/**
 * The upper dir as OCI layer entries, in deterministic (sorted) order: 0/0 char devices become
 * `.wh.<name>`, an opaque directory gets a `.wh..wh..opq` entry right after it, overlay's own
 * xattrs are dropped, other xattrs kept; files linked several times become hardlink entries.
 */
export function* upperEntries(upperdir: string, xattrs = readTreeXattrs(upperdir)): Generator<TarWriteEntry> {
  const seen = new Map<string, string>();
  function* visit(rel: string, abs: string): Generator<TarWriteEntry> {
    for (const name of sortedNames(abs)) {
      const crel = joinRel(rel, name);
      const cabs = join(abs, name);
      const st = lstatSync(cabs);
      if (isWhiteoutDevice(st)) {
        yield { path: joinRel(rel, `${WHITEOUT_PREFIX}${name}`), type: 'file', mode: 0o600, uid: st.uid, gid: st.gid, size: 0, mtime: Math.floor(st.mtimeMs / 1000) };
        continue;
      }
      const e = entryFromStat(crel, cabs, st);
      if (!e) continue;
      const attrs = xattrs.get(crel);
      if (attrs) {
        const kept = Object.fromEntries(Object.entries(attrs).filter(([k]) => !OVERLAY_XATTR.test(k)));
        if (Object.keys(kept).length) e.xattrs = kept;
      }
      if (e.type === 'file' && st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = seen.get(key);
        if (first !== undefined) {
          yield { ...e, type: 'hardlink', linkname: first, size: 0, sourcePath: undefined };
          continue;
        }
        seen.set(key, crel);
      }
      yield e;
      if (e.type === 'dir') {
        if (attrs?.['trusted.overlay.opaque']?.toString() === 'y') {
          yield { path: joinRel(crel, WHITEOUT_OPAQUE), type: 'file', mode: st.mode & 0o777, uid: st.uid, gid: st.gid, size: 0, mtime: Math.floor(st.mtimeMs / 1000) };
        }
        yield* visit(crel, cabs);
      }
    }
  }
  yield* visit('.', upperdir);
}

/** Write entries as an uncompressed layer tar file; returns the layer (diffID computed while writing). */
export async function writeLayerFile(entries: Iterable<TarWriteEntry>, file: string): Promise<Layer & { path: string }> {
  const out = createWriteStream(file);
  const hasher = new Hasher();
  let size = 0;
  for await (const chunk of writeTar(entries)) {
    hasher.update(chunk);
    size += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  const diffId: Digest = hasher.digest();
  const open = async () => createReadStream(file, { highWaterMark: 256 * 1024 }) as AsyncIterable<Uint8Array>;
  return Object.assign(layerFromUncompressed({ open, diffId, size }), { path: file });
}
