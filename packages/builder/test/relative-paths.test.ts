// `strata build` with relative paths: every host path handed to the OCI runtime (bind, cache,
// secret and from=stage sources, the store's own directories) must be absolute, whatever the
// context, the Dockerfile and --root are called on the command line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxRootfsTar, cleanupTempDirs, peerAvailable, runStrata, tempDir, writeTree } from '@strata/testing';

afterAll(cleanupTempDirs);

const DOCKERFILE = `FROM strata-test/busybox:latest AS data
RUN mkdir /out && echo staged > /out/s
FROM strata-test/busybox:latest
RUN --mount=type=bind,source=f.txt,target=/mnt/f.txt cat /mnt/f.txt > /bind-file
RUN --mount=type=bind,source=dir,target=/mnt/dir ls /mnt/dir > /bind-dir
RUN --mount=type=bind,from=data,source=/out,target=/in cp /in/s /from-stage
RUN --mount=type=cache,target=/cache echo cached > /cache/c && cat /cache/c > /from-cache
RUN --mount=type=secret,id=tok cat /run/secrets/tok > /from-secret
`;

const EXPECTED: Record<string, string> = {
  '/bind-file': 'hello bind\n',
  '/bind-dir': 'one\n',
  '/from-stage': 'staged\n',
  '/from-cache': 'cached\n',
  '/from-secret': 'sesame',
};

describe.skipIf(!peerAvailable('runc') && !peerAvailable('crun'))('build with relative paths', () => {
  let work: string;
  beforeAll(async () => {
    work = tempDir();
    writeTree(join(work, 'project'), { 'ctx/f.txt': 'hello bind\n', 'ctx/dir/one': '1', 'ctx/Dockerfile': DOCKERFILE, 'other/Dockerfile': DOCKERFILE, 'secret.txt': 'sesame' });
    mkdirSync(join(work, 'project', 'ctx', 'sub'));
    // A relative --root too: the store's cache mounts and scratch directories reach the runtime.
    const r = await runStrata(['--root', 'store', 'image', 'import', busyboxRootfsTar(), 'strata-test/busybox:latest'], { cwd: work });
    expect(r.code, r.stderr).toBe(0);
  });

  const cases: Array<{ name: string; cwd: string; args: string[] }> = [
    { name: 'context "."', cwd: 'project/ctx', args: ['--root', '../../store', '--secret', 'id=tok,src=../secret.txt', '.'] },
    { name: 'a relative context path', cwd: '.', args: ['--root', 'store', '--secret', 'id=tok,src=project/secret.txt', 'project/ctx'] },
    { name: 'context "../ctx" with -f outside the context', cwd: 'project/ctx/sub', args: ['--root', '../../../store', '--secret', 'id=tok,src=../../secret.txt', '-f', '../../other/Dockerfile', '..'] },
  ];

  it.each(cases)('$name: bind, cache, secret and from=stage sources are found', async ({ cwd, args }) => {
    const [rootFlag, rootDir, ...rest] = args;
    const b = await runStrata([rootFlag, rootDir, '-q', 'build', '--no-cache', ...rest], { cwd: join(work, cwd) });
    expect(b.code, b.stderr).toBe(0);
    const id = b.out.trim();
    for (const [path, content] of Object.entries(EXPECTED)) {
      const cat = await runStrata([rootFlag, rootDir, 'image', 'cat', id, path], { cwd: join(work, cwd) });
      expect(cat.code, cat.stderr).toBe(0);
      expect(cat.out, path).toBe(content);
    }
  });
});
