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
  /** Distribution records (where a layer or image came from) of blobs no longer in the store. */
  distributionFiles: number;
}

/**
 * Delete unreachable blobs (not named from index.json, build-cache roots, or a live process's
 * lease), then the distribution records of blobs that are gone. Runs under the store lock; blobs
 * are listed before reachability is computed, so a blob that appears meanwhile is never a
 * candidate.
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
    const distributionFiles = await sweepDistribution(store, new Set(blobs), opts.dryRun === true);
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
    return { blobs, bytes, tmpFiles, tmpBytes, staleLock, distributionFiles };
  });
}

/**
 * `ROOT/distribution/{layers,images}/<hex>.json` name a layer's diffID or an image's config
 * digest (distribution.ts): a record whose blob was just swept, or is not in the store at all
 * (left by a removal before records were collected), goes too. Only for sha256 names; the
 * records are a cache, so one removed while a pull is recording it again costs that pull's
 * next push an upload, nothing else.
 */
async function sweepDistribution(store: Store, swept: ReadonlySet<Digest>, dryRun: boolean): Promise<number> {
  let n = 0;
  for (const kind of ['layers', 'images']) {
    const dir = join(store.root, 'distribution', kind);
    const names = await fsp.readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      if (!/^[0-9a-f]{64}\.json$/.test(name)) continue;
      const d = `sha256:${name.slice(0, 64)}` as Digest;
      if (!swept.has(d) && (await store.blobs.size(d)) !== undefined) continue;
      n++;
      if (!dryRun) await fsp.rm(join(dir, name), { force: true });
    }
  }
  return n;
}
