import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, runStrata, tempDir } from '@strata/testing';
import { openStore, readIndex, refName } from '../src/index';
import { makeImage } from './helpers';

afterAll(cleanupTempDirs);

const WORKERS = 8;

/**
 * 8 workers, each a sequence of separate `strata` processes on one root (load, tag, rm, prune),
 * all running at once. Images share layers across workers' images, so a prune that GCs one image's
 * blobs while another is loaded with the same layers is exercised. Afterwards the store must be
 * consistent: `store check` clean, every tag resolves, and each worker's tags point where its
 * own sequence left them.
 */
describe('concurrent strata processes on one root', () => {
  it('leave a consistent store', async () => {
    const root = tempDir();
    const store = await openStore(root);
    const hasLoad = (await runStrata(['image', 'load', '--help'])).code === 0;
    const pre: string[] = [];
    const loaded: string[] = [];
    const archives: string[] = [];
    for (let i = 0; i < WORKERS; i++) {
      const seed = `s${i % 3}`; // workers 0,3,6 share layers, and so on
      pre.push((await store.putImage(await makeImage(seed, { layers: 2, created: `2001-01-0${i + 1}T00:00:00Z` }), { tags: [`pre${i}:1`] })).id);
      await store.putImage(await makeImage(seed, { layers: 1, created: `2000-01-0${i + 1}T00:00:00Z` })); // dangling, shares layer 0
      const img = await makeImage(seed, { layers: 2, created: `2002-01-0${i + 1}T00:00:00Z` });
      loaded.push(await img.configDigest());
      if (hasLoad) {
        // An OCI layout archive holding just this image: the store format is one.
        const dir = tempDir();
        await (await openStore(dir)).putImage(img, { tags: [`load${i}:1`] });
        const tar = join(tempDir(), 'image.tar');
        execFileSync('tar', ['-C', dir, '-cf', tar, 'oci-layout', 'index.json', 'blobs']);
        archives.push(tar);
      } else {
        archives.push('');
      }
    }
    const loadImg = await Promise.all(Array.from({ length: WORKERS }, (_, i) => makeImage(`s${i % 3}`, { layers: 2, created: `2002-01-0${i + 1}T00:00:00Z` })));

    const ok = async (args: string[]) => {
      const r = await runStrata(args, { root, env: { STRATA_LOCK_TIMEOUT: '60' } });
      if (r.code !== 0) throw new Error(`strata ${args.join(' ')} → ${r.code}: ${r.stderr}`);
      return r;
    };
    await Promise.all(
      Array.from({ length: WORKERS }, async (_, i) => {
        if (hasLoad) await ok(['image', 'load', '-i', archives[i]]);
        else await store.putImage(loadImg[i], { tags: [`load${i}:1`] });
        await ok(['image', 'tag', `pre${i}:1`, `t${i}:a`]);
        await ok(['image', 'rm', `pre${i}:1`]);
        await ok(['image', 'prune', '-f']);
        await ok(['image', 'tag', `t${i}:a`, `t${i}:b`]);
        await ok(['image', 'rm', `t${i}:a`]);
        await ok(i % 2 ? ['image', 'prune', '-f'] : ['store', 'gc']);
      }),
    );

    const check = await runStrata(['store', 'check'], { root });
    expect([check.code, check.out]).toEqual([0, '']);
    const tags = (await readIndex(root)).manifests.map(refName).filter((t) => t !== undefined).sort();
    expect(tags).toEqual(
      Array.from({ length: WORKERS }, (_, i) => [`docker.io/library/load${i}:1`, `docker.io/library/t${i}:b`]).flat().sort(),
    );
    const fresh = await openStore(root);
    for (let i = 0; i < WORKERS; i++) {
      expect((await fresh.image(`t${i}:b`)).id).toBe(pre[i]);
      expect((await fresh.image(`load${i}:1`)).id).toBe(loaded[i]);
    }
    // the dangling images were pruned; nothing else is
    expect((await fresh.images()).filter((i) => i.tags.length === 0)).toEqual([]);
  }, 240_000);
});
