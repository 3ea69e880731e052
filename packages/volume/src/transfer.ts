import { randomBytes } from 'node:crypto';
import { closeSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StrataError } from '@strata/errors';
import { entryFromStat, hardlinks } from '@strata/layer';
import { applyLayer, comparePaths, descendAt, fdPath, joinRel, openRoot, readXattrs, writeTar, type TarWriteEntry } from '@strata/tar';
import { createVolume, findVolume, getVolume, volumeIsEmpty, type Volume } from './volumes';

/**
 * Every entry of a volume's data, the root directory itself first (`.`), sorted, with xattrs,
 * hard links as links to the first path, sub-second times. Names a layer would read as
 * whiteouts (`.wh.*`) are ordinary names here.
 */
function* volumeEntries(dir: string): Generator<TarWriteEntry> {
  const linked = hardlinks();
  const withXattrs = (e: TarWriteEntry, abs: string) => {
    const x = e.type === 'symlink' ? undefined : readXattrs(abs);
    if (x && Object.keys(x).length) e.xattrs = x;
    return e;
  };
  const root = entryFromStat('.', dir, lstatSync(dir));
  if (root) yield withXattrs(root, dir);
  // Directories are entered through descriptors (a container using the volume may swap one for
  // a symlink meanwhile); files keep their real path and the inode seen here, which writeTar checks.
  function* visit(rel: string, abs: string, dfd: number): Generator<TarWriteEntry> {
    for (const name of readdirSync(fdPath(dfd)).sort((a, b) => comparePaths(a, b))) {
      const crel = joinRel(rel, name);
      const at = fdPath(dfd, name);
      const st = lstatSync(at);
      const e = entryFromStat(crel, join(abs, name), st, at);
      if (!e) continue;
      yield linked(withXattrs(e, at), st);
      if (e.type === 'dir') {
        yield* descendAt(dfd, name, `volume ${crel}`, (cfd) => visit(crel, join(abs, name), cfd));
      }
    }
  }
  const rootFd = openRoot(dir);
  try {
    yield* visit('.', dir, rootFd);
  } finally {
    closeSync(rootFd);
  }
}

/** `volume export NAME`: the volume's files as a tar stream (owners, modes, times, xattrs, hard links kept). */
export function exportVolume(root: string, name: string): AsyncIterable<Uint8Array> {
  const v = getVolume(root, name);
  return writeTar(volumeEntries(v.mountpoint));
}

/** Where an import unpacks before it becomes the volume's data: `volumes/NAME/.import-<pid>-<hex>`. */
export const IMPORT_PREFIX = '.import-';

/**
 * `volume import NAME`: a tar (as `export` writes, or any) unpacked into the volume, which is
 * created when missing; an existing volume must be empty. Extraction is @strata/tar's safe one
 * (no path leaves the volume); owners, devices and xattrs are applied as root. The tar is
 * unpacked beside the (empty) data directory and renamed over it, so an import that fails or is
 * killed leaves the volume empty and can be run again (a dead process's leftover goes with
 * `cleanVolumeTemps`).
 */
export async function importVolume(
  root: string,
  name: string,
  tar: AsyncIterable<Uint8Array>,
  o: { now: Date; checkpoint?: (point: string) => void | Promise<void> },
): Promise<Volume> {
  const existing = findVolume(root, name);
  if (existing && !volumeIsEmpty(existing)) throw new StrataError('CONFLICT', `import ${name}: the volume is not empty`, { hint: 'import into a new or empty volume' });
  const v = existing ?? createVolume(root, { name, now: o.now });
  await o.checkpoint?.('volume-created');
  const stage = join(dirname(v.mountpoint), `${IMPORT_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(stage, 0o755);
  try {
    await applyLayer(stage, tar, { whiteouts: 'keep', what: `volume ${name}` });
    await o.checkpoint?.('volume-unpacked');
    try {
      renameSync(stage, v.mountpoint);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new StrataError('CONFLICT', `import ${name}: the volume is not empty`, { hint: 'import into a new or empty volume', cause: err });
      throw err;
    }
  } catch (err) {
    rmSync(stage, { recursive: true, force: true });
    throw err;
  }
  return v;
}
