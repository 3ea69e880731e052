import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Digest } from '@strata/oci';
import type { Change, Layer } from '@strata/layer';
import { createWritableLayer, recoverWritableLayers, removeWritableLayer, type RootfsSpec } from './writable';

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
  /** Accepted for callers that describe the step; nothing reads it (build steps are not containers). */
  config?: Record<string, unknown>;
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
  /** Remove the layer file. The writable layer itself is already gone. */
  cleanup(): Promise<void>;
}

/**
 * One build step's RUN: a throw-away writable layer over the layers. Its record (ephemeral,
 * owned by this process) is written before anything else so GC keeps its snapshots and a crash
 * is recovered by the next strata command; after `exec`, the upper dir is captured and the
 * layer removed. Throws what `exec` throws (after cleaning up).
 */
export async function runOnLayers(o: RunOnLayersOptions): Promise<RunOnLayersResult> {
  await recoverWritableLayers(o.root);
  const id = `build-${randomBytes(16).toString('hex')}`;
  let layerPath: string | undefined;
  try {
    const w = await createWritableLayer(o.root, { id, layers: o.layers, ephemeral: true });
    const { exitCode } = await o.exec({ id, rootfs: w.rootfs(), bundleDir: join(w.dir, 'bundle'), stateDir: join(w.dir, 'runtime') });
    const captured = w.capture();
    const changes = captured.changes;
    let layer: (Layer & { path: string }) | undefined;
    if (exitCode === 0 || o.layerOnFailure) {
      const tmp = join(o.root, 'tmp');
      mkdirSync(tmp, { recursive: true });
      layerPath = join(tmp, `run-${process.pid}-${id.slice(6, 22)}.tar`);
      layer = await captured.writeLayer(layerPath);
    }
    const file = layerPath;
    return {
      exitCode,
      changes,
      layer,
      snapshots: [...w.snapshots],
      cleanup: async () => {
        if (file) rmSync(file, { force: true });
      },
    };
  } catch (err) {
    if (layerPath) rmSync(layerPath, { force: true });
    throw err;
  } finally {
    removeWritableLayer(o.root, id);
  }
}
