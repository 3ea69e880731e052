import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Digest } from '@strata/oci';
import { readIndex } from './index-file';
import { reachableDigests } from './reachable';
import { cacheRoots } from './side-state';
import type { Store } from './store';

export interface GcResult {
  /** Blobs deleted (or, with dryRun, that would be). */
  blobs: Digest[];
  bytes: number;
  tmpFiles: number;
  tmpBytes: number;
  staleLock: boolean;
}

/**
 * Delete unreachable blobs (not named from index.json, build-cache roots, or a live process's
 * lease). Runs under the store lock; blobs are listed before reachability is computed, so a blob
 * that appears meanwhile is never a candidate.
 */
export async function collectGarbage(store: Store, opts: { dryRun?: boolean; tmp?: boolean } = {}): Promise<GcResult> {
  const staleLock = opts.tmp ? await store.breakStaleLock() : false;
  return store.withLock(async () => {
    const listed: Digest[] = [];
    for await (const d of store.blobs.list()) listed.push(d);
    const reachable = await reachableDigests(store.blobs, await readIndex(store.root), await cacheRoots(store.root));
    const candidates = listed.filter((d) => !reachable.has(d));
    await store.checkpoint('gc-planned');
    let blobs: Digest[];
    let bytes = 0;
    if (opts.dryRun) {
      blobs = candidates;
      for (const d of candidates) bytes += (await store.blobs.size(d)) ?? 0;
    } else {
      ({ deleted: blobs, bytes } = await store.blobs.sweep(candidates));
    }
    let tmpFiles = 0;
    let tmpBytes = 0;
    if (opts.tmp && !opts.dryRun) {
      await store.checkpoint('gc-swept');
      ({ files: tmpFiles, bytes: tmpBytes } = await store.blobs.cleanTmp());
      // A break guard left by a process killed while breaking a stale lock.
      const guard = join(store.root, 'lock.break');
      const st = await fsp.lstat(guard).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > 10_000) await fsp.rm(guard, { force: true });
    }
    return { blobs, bytes, tmpFiles, tmpBytes, staleLock };
  });
}
