// `container run` hands the network's teardown to a cleanup process and returns; a `container rm`
// right after it must still return only when that container's network is gone (as `docker rm`):
// no netns, no teardown record, no live entry. Found by the kill -9 matrix (issue 18), where the
// check after a rerun saw the cleanup process still at work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_RUN_DIR } from '@strata/network';
import { cleanupTempDirs, isRoot, peerAvailable, requireOrSkip, tempDir } from '@strata/testing';
import { IMAGE, importBase, strata } from './helpers';

const ok = requireOrSkip(isRoot(), 'needs root') && (peerAvailable('runc') || peerAvailable('crun'));

describe.skipIf(!ok)('rm right after run', () => {
  const root = join(tempDir('strata-rm-after-run-'), 'store');
  const s = strata(root);
  beforeAll(() => importBase(root), 120_000);
  afterAll(async () => {
    for (const id of (await s(['container', 'ls', '-a', '-q', '--no-trunc'])).out.split('\n').filter(Boolean)) await s(['container', 'rm', '-f', id]);
    cleanupTempDirs();
  });

  it('waits for the teardown the run handed off: no netns, record or live entry is left', async () => {
    for (let i = 0; i < 3; i++) {
      // the ID first (create prints it), so nothing stands between the run's end and the rm
      const created = await s(['container', 'create', '--name', `r${i}x`, '-p', `${18170 + i}:80`, IMAGE, 'true']);
      expect(created.code, created.stderr).toBe(0);
      const id = created.out.trim();
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      const run = await s(['container', 'start', '-a', `r${i}x`]);
      expect(run.code, run.stderr).toBe(0);
      const rm = await s(['container', 'rm', `r${i}x`]);
      expect(rm.code, rm.stderr).toBe(0);
      const netns = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => id.startsWith(n.replace(/^strata-/, ''))) : [];
      expect(netns).toEqual([]);
      const files = (d: string) => (existsSync(join(DEFAULT_RUN_DIR, d)) ? readdirSync(join(DEFAULT_RUN_DIR, d)).filter((n) => n.startsWith(id)) : []);
      expect(files('net')).toEqual([]);
      expect(files('live')).toEqual([]);
    }
  });
});
