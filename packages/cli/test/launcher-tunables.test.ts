// The `strata` launcher starts node with glibc's malloc on transparent huge pages
// (GLIBC_TUNABLES=glibc.malloc.hugetlb=1) unless the caller set tunables of their own, and strata
// takes the setting out of its environment at start: the programs it runs see the caller's
// environment. A fake credential helper, run by `strata logout`, records its own environment and
// its parent's (node's, as it was at exec).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, REPO_ROOT, tempDir } from '@strata/testing';

const LAUNCHER = join(REPO_ROOT, 'dist/strata');

afterAll(() => cleanupTempDirs());

function logoutThroughLauncher(tunables: string | undefined) {
  const dir = tempDir();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ credsStore: 'envdump' }));
  writeFileSync(
    join(dir, 'docker-credential-envdump'),
    `#!/bin/sh\nenv > "${dir}/helper-env"\ntr '\\000' '\\n' < /proc/$PPID/environ > "${dir}/node-env"\ncat >/dev/null\nexit 0\n`,
    { mode: 0o755 },
  );
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: dir, PATH: `${dir}:${process.env.PATH}` };
  delete env.GLIBC_TUNABLES;
  delete env.STRATA_GLIBC_TUNABLES;
  if (tunables !== undefined) env.GLIBC_TUNABLES = tunables;
  const r = spawnSync(LAUNCHER, ['logout', '127.0.0.1:5999'], { env, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const lines = (file: string) => readFileSync(join(dir, file), 'utf8').split('\n');
  return { helper: lines('helper-env'), node: lines('node-env') };
}

describe('the strata launcher and GLIBC_TUNABLES', () => {
  it('starts node with malloc on huge pages and keeps the setting from what strata runs', () => {
    const { helper, node } = logoutThroughLauncher(undefined);
    expect(node).toContain('GLIBC_TUNABLES=glibc.malloc.hugetlb=1');
    expect(helper.filter((l) => l.startsWith('GLIBC_TUNABLES=') || l.startsWith('STRATA_GLIBC_TUNABLES='))).toEqual([]);
  });

  it("leaves the caller's own tunables alone, even empty ones", () => {
    for (const own of ['glibc.malloc.arena_max=2', '']) {
      const { helper, node } = logoutThroughLauncher(own);
      expect(node).toContain(`GLIBC_TUNABLES=${own}`);
      expect(helper).toContain(`GLIBC_TUNABLES=${own}`);
      expect(helper.filter((l) => l.startsWith('STRATA_GLIBC_TUNABLES='))).toEqual([]);
    }
  });
});
