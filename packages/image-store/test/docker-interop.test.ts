import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dockerOk, ensureDockerBusybox, peerAvailable, runStrata, tempDir } from '@strata/testing';

afterAll(cleanupTempDirs);

/** `strata image ls` shows what `docker image ls` shows for the same image (loaded from `docker save`). */
describe.skipIf(!peerAvailable('docker'))('image ls against docker', () => {
  it('same repository, tag, ID, size and created time; skopeo reads the loaded store', async () => {
    const tag = ensureDockerBusybox();
    const root = tempDir();
    const saved = await dockerOk(['save', tag]);
    const load = await runStrata(['image', 'load'], { root, input: saved.stdout });
    expect(load.code, load.stderr).toBe(0);
    // docker prints CreatedAt in its local zone, strata in UTC (Go's time.String of a UTC time)
    const d = JSON.parse((await dockerOk(['image', 'ls', '--format', '{{json .}}', tag], { env: { TZ: 'UTC' } })).out.trim().split('\n')[0]);
    const s = (await runStrata(['image', 'ls', '--format', 'json'], { root })).out.trim().split('\n').map((l) => JSON.parse(l));
    expect(s).toHaveLength(1);
    expect({ Repository: s[0].Repository, Tag: s[0].Tag, ID: s[0].ID, Size: s[0].Size }).toEqual({ Repository: d.Repository, Tag: d.Tag, ID: d.ID, Size: d.Size });
    expect(s[0].CreatedAt).toBe(d.CreatedAt);
    const table = (await runStrata(['image', 'ls'], { root })).out.split('\n')[1].split(/\s{3,}/);
    const dockerTable = (await dockerOk(['image', 'ls', tag])).out.split('\n')[1].split(/\s{3,}/);
    expect([table[0], table[1], table[2], table[4]]).toEqual([dockerTable[0], dockerTable[1], dockerTable[2], dockerTable[4]]);
    if (peerAvailable('skopeo')) {
      const out = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `oci:${root}:docker.io/${tag}`]).toString());
      expect(out.rootfs.diff_ids).toHaveLength(1);
      const id = (await dockerOk(['image', 'inspect', '--format', '{{.Id}}', tag])).out.trim();
      const cfgDigest = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `oci:${root}:docker.io/${tag}`]).toString()).config.digest;
      expect(cfgDigest).toBe(id);
    }
    const check = await runStrata(['store', 'check'], { root });
    expect(check.code).toBe(0);
  }, 120_000);
});
