import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Change, Layer } from '@strata/layer';
import { containerDir, type ContainerRecord } from './containers';
import { upperChanges, upperEntries, writeLayerFile } from './capture';
import { readSnapshotMeta, snapshotsDir } from './snapshots';
import type { LowerDir } from './lower-view';
import { digestHex } from '@strata/oci';
import { readTreeXattrs } from './xattrs';

/** The root filesystem handed to @strata/runtime's runProcess (same shape as its RootfsSpec). */
export type RootfsSpec = { path: string } | { lowerdirs: string[]; upperdir: string; workdir: string };

/** A container's copy-on-write layer over its snapshots. */
export interface WritableLayer {
  readonly dir: string;
  /** Lower dirs, top → bottom. */
  readonly lowerdirs: string[];
  readonly upperdir: string;
  readonly workdir: string;
  rootfs(): RootfsSpec;
  /** `docker diff` of the writable layer. */
  changes(): Change[];
  /** The writable layer as an uncompressed OCI layer tar in `file` (OCI whiteouts, sorted, deterministic). */
  writeLayer(file: string): Promise<Layer & { path: string }>;
  /** Forget the changes (a fresh upper dir). */
  reset(): void;
}

/** The writable layer of a container record (dirs created when missing). */
export function writableLayer(root: string, rec: Pick<ContainerRecord, 'id' | 'snapshots'>): WritableLayer {
  const dir = containerDir(root, rec.id);
  const upperdir = join(dir, 'upper');
  const workdir = join(dir, 'work');
  mkdirSync(upperdir, { recursive: true });
  mkdirSync(workdir, { recursive: true });
  const lowerdirs = [...rec.snapshots].reverse().map((c) => join(snapshotsDir(root), digestHex(c), 'fs'));
  const lowers = (): LowerDir[] =>
    [...rec.snapshots].reverse().map((c, i) => ({ dir: lowerdirs[i], opaque: new Set(readSnapshotMeta(root, c)?.opaque ?? []) }));
  return {
    dir,
    lowerdirs,
    upperdir,
    workdir,
    rootfs: () => ({ lowerdirs, upperdir, workdir }),
    changes: () => upperChanges(upperdir, lowers()),
    writeLayer: (file) => {
      const x = readTreeXattrs(upperdir);
      return writeLayerFile(upperEntries(upperdir, x), file);
    },
    reset: () => {
      rmSync(upperdir, { recursive: true, force: true });
      rmSync(workdir, { recursive: true, force: true });
      mkdirSync(upperdir, { recursive: true });
      mkdirSync(workdir, { recursive: true });
    },
  };
}
