import { chainIds, type Digest } from '@strata/oci';
import { pruneSnapshots } from '@strata/cow';
import { StrataError } from '@strata/errors';
import { openStore } from '@strata/image-store';
import { detach } from '@strata/network';
import { waitReleased } from './live';
import { dropContainer, recover, type RecoverOptions } from './recover';
import { findContainer, listContainers, readContainer } from './records';
import { signalContainer, waitStopped } from './stop';

export interface RemoveOptions extends RecoverOptions {
  /** Kill a running container first. */
  force?: boolean;
  /** `-v`: remove its anonymous volumes too (named ones stay). */
  volumes?: boolean;
  /** Crash tests stop here: `stopped`, `network-down`. */
  checkpoint?: (point: string) => void | Promise<void>;
}

/** Docker's `rm`: the container, its writable layer, its volume references (and with `volumes`, its anonymous volumes). */
export async function removeContainer(root: string, ref: string, o: RemoveOptions = {}): Promise<string> {
  await recover(root, o);
  const rec = findContainer(root, ref);
  if (rec.state === 'running') {
    if (!o.force) throw new StrataError('CONFLICT', `You cannot remove a running container ${rec.id}. Stop the container before attempting removal or force remove`);
    await signalContainer(root, rec, 'KILL').catch(() => {});
    await waitStopped(root, rec.id, 10_000);
    await o.checkpoint?.('stopped');
  }
  // The network goes with the container: a teardown the run handed to its cleanup process is
  // waited for, one a crash left behind is done here.
  await waitReleased(rec.id, o.runDir);
  await detach(rec.id, { runDir: o.runDir });
  await o.checkpoint?.('network-down');
  const now = readContainer(root, rec.id);
  if (now) dropContainer(root, now, { volumes: o.volumes });
  return rec.id;
}

export interface PruneContainersResult {
  containers: string[];
  snapshots: Digest[];
}

/**
 * Docker's `container prune`: every container that is not running (its anonymous volumes stay,
 * for `volume prune`). Then snapshots no writable layer uses and that belong to no stored image;
 * with `snapshots`, those of stored images too.
 */
export async function pruneContainers(root: string, o: RecoverOptions & { snapshots?: boolean } = {}): Promise<PruneContainersResult> {
  await recover(root, o);
  const removed: string[] = [];
  for (const c of listContainers(root)) {
    if (c.state === 'running') continue;
    await waitReleased(c.id, o.runDir);
    await detach(c.id, { runDir: o.runDir });
    dropContainer(root, c);
    removed.push(c.id);
  }
  const keep = new Set<Digest>();
  if (!o.snapshots) {
    const store = await openStore(root);
    for (const img of await store.images()) {
      for (const c of chainIds((await img.image.config()).rootfs.diff_ids as Digest[])) keep.add(c);
    }
  }
  return { containers: removed, snapshots: pruneSnapshots(root, { keep }) };
}
