import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { digestHex } from '@strata/oci';
import { changeEntries, type Change, type Layer } from '@strata/layer';
import { containerDir, type ContainerRecord } from './containers';
import { copyChanges, upperChanges, upperEntries, writeLayerFile } from './capture';
import { buildCopyRootfs } from './copy';
import type { LowerDir } from './lower-view';
import { readSnapshotMeta, snapshotsDir } from './snapshots';
import { readTreeXattrs } from './xattrs';

/** The root filesystem handed to @strata/runtime's runProcess (same shape as its RootfsSpec). */
export type RootfsSpec = { path: string } | { lowerdirs: string[]; upperdir: string; workdir: string };

/** A container's copy-on-write layer over its snapshots. */
export interface WritableLayer {
  readonly mode: 'overlay' | 'copy';
  readonly dir: string;
  /** Lower dirs, top → bottom. */
  readonly lowerdirs: string[];
  /** overlay: the upper dir; copy: the full root filesystem copy. */
  readonly upperdir: string;
  readonly workdir: string;
  /** Create what the layer needs (upper/work dirs, or the copied root filesystem). Idempotent. */
  prepare(): void;
  rootfs(): RootfsSpec;
  /** `docker diff` of the writable layer. */
  changes(): Change[];
  /** The writable layer as an uncompressed OCI layer tar in `file` (OCI whiteouts, sorted, deterministic). */
  writeLayer(file: string): Promise<Layer & { path: string }>;
  /**
   * Both of the above for a container that no longer runs, reading the upper dir's xattrs once
   * (a RUN step or a commit needs the changes and then the layer of one unchanging upper dir).
   */
  capture(): { changes: Change[]; writeLayer(file: string): Promise<Layer & { path: string }> };
  /** Forget the changes. */
  reset(): void;
}

/** The writable layer of a container record (`cow` says overlay or the copying fallback). */
export function writableLayer(root: string, rec: Pick<ContainerRecord, 'id' | 'snapshots'> & { cow?: 'overlay' | 'copy' }): WritableLayer {
  const mode = rec.cow ?? 'overlay';
  const dir = containerDir(root, rec.id);
  const upperdir = join(dir, mode === 'copy' ? 'rootfs' : 'upper');
  const workdir = join(dir, 'work');
  const lowerdirs = [...rec.snapshots].reverse().map((c) => join(snapshotsDir(root), digestHex(c), 'fs'));
  const lowers = (): LowerDir[] =>
    [...rec.snapshots].reverse().map((c, i) => ({ dir: lowerdirs[i], opaque: new Set(readSnapshotMeta(root, c)?.opaque ?? []) }));
  const prepare = () => {
    if (mode === 'overlay') {
      mkdirSync(upperdir, { recursive: true });
      mkdirSync(workdir, { recursive: true });
    } else if (!existsSync(upperdir)) {
      const tmp = `${upperdir}.tmp`;
      rmSync(tmp, { recursive: true, force: true });
      buildCopyRootfs(lowers(), tmp);
      // Complete or absent: a crash mid-copy never leaves a half rootfs under the real name.
      mkdirSync(dir, { recursive: true });
      renameSync(tmp, upperdir);
    }
  };
  return {
    mode,
    dir,
    lowerdirs,
    upperdir,
    workdir,
    prepare,
    rootfs: () => (mode === 'copy' ? { path: upperdir } : { lowerdirs, upperdir, workdir }),
    changes: () => (mode === 'copy' ? copyChanges(upperdir, lowers()) : upperChanges(upperdir, lowers())),
    writeLayer: (file) => {
      if (mode === 'copy') return writeLayerFile(changeEntries(upperdir, copyChanges(upperdir, lowers())), file);
      return writeLayerFile(upperEntries(upperdir, readTreeXattrs(upperdir)), file);
    },
    capture: () => {
      if (mode === 'copy') {
        const changes = copyChanges(upperdir, lowers());
        return { changes, writeLayer: (file) => writeLayerFile(changeEntries(upperdir, changes), file) };
      }
      const xattrs = readTreeXattrs(upperdir);
      return { changes: upperChanges(upperdir, lowers(), xattrs), writeLayer: (file) => writeLayerFile(upperEntries(upperdir, xattrs), file) };
    },
    reset: () => {
      rmSync(upperdir, { recursive: true, force: true });
      rmSync(workdir, { recursive: true, force: true });
      prepare();
    },
  };
}
