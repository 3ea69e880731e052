// `-v` after `container run|create|rm` is the verb's (a volume, rm's --volumes), as in Docker;
// before the noun it is still strata's --verbose.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { busyboxRootfsTar, cleanupTempDirs, peerAvailable, runStrata, tempDir } from '@strata/testing';
import { verbTakingV } from '../src/program';

afterAll(() => cleanupTempDirs());

describe('-v on the command line', () => {
  it('finds container run|create|rm after global options', () => {
    expect(verbTakingV(['container', 'run', '-v', 'a:/b', 'img'])).toBe(1);
    expect(verbTakingV(['-v', '--root', '/r', 'container', 'create', 'img'])).toBe(4);
    expect(verbTakingV(['--format', 'json', 'container', 'rm', '-v', 'c'])).toBe(3);
    expect(verbTakingV(['container', 'ls', '-v'])).toBeUndefined();
    expect(verbTakingV(['image', 'run'])).toBeUndefined();
    expect(verbTakingV(['-v', 'build', '.'])).toBeUndefined();
  });

  it.skipIf(!peerAvailable('runc'))('mounts a named volume with -v, and -v before the noun still means verbose', async () => {
    const root = join(tempDir(), 'store');
    expect((await runStrata(['image', 'import', '--change', 'CMD ["sh"]', busyboxRootfsTar(), 'vflag/base:1'], { root })).code).toBe(0);
    const w = await runStrata(['-v', 'container', 'run', '--network', 'none', '--name', 'vc', '-v', 'vflag-data:/data', '-v', '/anon', 'vflag/base:1', 'sh', '-c', 'echo kept > /data/f'], { root });
    expect(w.code, w.stderr).toBe(0);
    expect(w.stderr).toMatch(/snapshots: \d+ unpacked/); // -v (verbose) before the noun
    const r = await runStrata(['container', 'run', '--rm', '--network', 'none', '-v', 'vflag-data:/data:ro', 'vflag/base:1', 'cat', '/data/f'], { root });
    expect(r.out).toBe('kept\n');
    const anon = JSON.parse((await runStrata(['container', 'inspect', 'vc'], { root })).out)[0].Mounts.find((m: { Destination: string }) => m.Destination === '/anon').Name;
    expect((await runStrata(['container', 'rm', '-v', 'vc'], { root })).code).toBe(0);
    expect((await runStrata(['volume', 'inspect', anon], { root })).code).toBe(2);
    expect((await runStrata(['volume', 'ls', '-q'], { root })).out).toBe('vflag-data\n');
  });
});
