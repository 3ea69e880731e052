// An image whose upper layer holds entries below paths that a lower layer made a symlink or a
// file (lib -> usr/lib, abs -> /usr/lib, data). Docker's overlay2 applies each layer into a
// directory of its own, so the upper layer's implied directories hide the symlinks and the file;
// nothing reaches /usr/lib. Every strata view gives that tree, and none refuses the image.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { cleanupTempDirs, dockerOk, ensureDockerDerivedImage, peerAvailable, REPO_ROOT, runStrata, tempDir } from '@strata/testing';

afterAll(cleanupTempDirs);

const CASE = join(REPO_ROOT, 'test-fixtures/build/77-layer-under-lower-symlink');
const TAG = 'strata-test/layer-under-lower-symlink:latest';
const LISTING = 'ls -1ap /lib /abs /data /usr/lib; cat /lib/x.txt /abs/z.txt /data/inner.txt; test -e /usr/lib/x.txt && echo LEAKED; true';

describe.skipIf(!peerAvailable('docker'))('an entry below a path a lower layer made a symlink', () => {
  let root: string;
  beforeAll(async () => {
    ensureDockerDerivedImage(TAG, [join(CASE, 'base/layer1.tar'), join(CASE, 'base/layer2.tar')]);
    root = join(tempDir(), 'root');
    const tar = join(tempDir(), 'image.tar');
    await dockerOk(['save', '-o', tar, TAG]);
    const r = await runStrata(['image', 'load', '-i', tar], { root });
    expect(r.code, r.stderr).toBe(0);
  });

  it('image cat reads through the replaced directories, never through the symlink', async () => {
    for (const [path, content] of [['/lib/x.txt', 'x\n'], ['/abs/z.txt', 'z\n'], ['/data/inner.txt', 'inner\n'], ['/usr/lib/y.txt', 'y\n']]) {
      const r = await runStrata(['image', 'cat', TAG, path], { root });
      expect(r.code, r.stderr).toBe(0);
      expect(r.out).toBe(content);
    }
    const leaked = await runStrata(['image', 'cat', TAG, '/usr/lib/x.txt'], { root });
    expect(leaked.code).toBe(2);
  });

  it('image export has the directories Docker export has', async () => {
    const r = await runStrata(['image', 'export', TAG], { root });
    expect(r.code, r.stderr).toBe(0);
    const list = execFileSync('tar', ['-tv'], { input: r.stdout, encoding: 'utf8' }).split('\n');
    const line = (p: string) => list.find((l) => l.endsWith(` ${p}`) || l.includes(` ${p} -> `));
    for (const d of ['lib/', 'abs/', 'data/']) expect(line(d), d).toMatch(/^d/);
    for (const f of ['lib/x.txt', 'abs/z.txt', 'data/inner.txt', 'usr/lib/y.txt']) expect(line(f), f).toMatch(/^-/);
    expect(line('usr/lib/x.txt')).toBeUndefined();
  });

  it.skipIf(!peerAvailable('runc') && !peerAvailable('crun'))('container run sees what docker run sees', async () => {
    const theirs = await dockerOk(['run', '--rm', TAG, 'sh', '-c', LISTING]);
    const ours = await runStrata(['container', 'run', '--rm', '--network', 'none', TAG, 'sh', '-c', LISTING], { root });
    expect(ours.code, ours.stderr).toBe(0);
    expect(ours.out).toBe(theirs.out);
    expect(ours.out).not.toContain('LEAKED');
  });
});
