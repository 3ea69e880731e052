import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chainIds, type Digest } from '@strata/oci';
import type { Change, Layer } from '@strata/layer';
import { containerDir, recoverContainers, removeContainerDir, writeContainer, type ContainerConfig } from './containers';
import { currentOwner } from './owner';
import { ensureSnapshots } from './snapshots';
import { overlaySupported } from './copy';
import { writableLayer, type RootfsSpec } from './writable';

/** What `exec` gets: exactly the fields @strata/runtime's `runProcess` needs besides the process. */
export interface ExecContext {
  id: string;
  rootfs: RootfsSpec;
  bundleDir: string;
  stateDir: string;
}

export interface RunOnLayersOptions {
  root: string;
  /** The base image's layers, bottom → top (unpacked once into shared snapshots). */
  layers: readonly Layer[];
  /** Runs the process (normally `(c) => runProcess({ ...c, args, env, … })`); returns its exit code. */
  exec: (ctx: ExecContext) => Promise<{ exitCode: number }>;
  /** Recorded in the step's container.json for people looking at the store. */
  config?: Partial<ContainerConfig>;
  /** Write the layer even when the process failed (default: only on exit code 0). */
  layerOnFailure?: boolean;
}

export interface RunOnLayersResult {
  exitCode: number;
  /** The writable layer's changes (`docker diff` form). */
  changes: Change[];
  /** The writable layer as an uncompressed tar in ROOT/tmp (OCI whiteouts); absent when not written. */
  layer?: Layer & { path: string };
  /** Snapshot chainIDs the step ran on. */
  snapshots: Digest[];
  /** Remove the layer file. The container itself is already gone. */
  cleanup(): Promise<void>;
}

/**
 * One build step's RUN: a throw-away container over the layers. Its record (ephemeral, owned by
 * this process) is written before anything else so GC keeps its snapshots and a crash is
 * recovered by the next strata command; after `exec`, the upper dir is captured and the
 * container removed. Throws what `exec` throws (after cleaning up).
 */
export async function runOnLayers(o: RunOnLayersOptions): Promise<RunOnLayersResult> {
  await recoverContainers(o.root);
  const id = randomBytes(32).toString('hex');
  const now = new Date().toISOString();
  const diffIds = await Promise.all(o.layers.map((l) => l.diffId()));
  const snapshots = chainIds(diffIds);
  writeContainer(o.root, {
    id,
    name: `build-${id.slice(0, 12)}`,
    image: null,
    created: now,
    state: 'running',
    startedAt: now,
    config: { args: [], env: [], cwd: '/', user: '', hostname: '', network: 'none', tty: false, openStdin: false, ...o.config },
    snapshots,
    diffIds,
    cow: overlaySupported() ? 'overlay' : 'copy',
    owner: currentOwner(),
    ephemeral: true,
  });
  let layerPath: string | undefined;
  try {
    await ensureSnapshots(o.root, o.layers);
    const w = writableLayer(o.root, { id, snapshots, cow: overlaySupported() ? 'overlay' : 'copy' });
    w.prepare();
    const dir = containerDir(o.root, id);
    const { exitCode } = await o.exec({ id, rootfs: w.rootfs(), bundleDir: join(dir, 'bundle'), stateDir: join(dir, 'runtime') });
    const captured = w.capture();
    const changes = captured.changes;
    let layer: (Layer & { path: string }) | undefined;
    if (exitCode === 0 || o.layerOnFailure) {
      const tmp = join(o.root, 'tmp');
      mkdirSync(tmp, { recursive: true });
      layerPath = join(tmp, `run-${process.pid}-${id.slice(0, 16)}.tar`);
      layer = await captured.writeLayer(layerPath);
    }
    const file = layerPath;
    return {
      exitCode,
      changes,
      layer,
      snapshots,
      cleanup: async () => {
        if (file) rmSync(file, { force: true });
      },
    };
  } catch (err) {
    if (layerPath) rmSync(layerPath, { force: true });
    throw err;
  } finally {
    removeContainerDir(o.root, id);
  }
}
