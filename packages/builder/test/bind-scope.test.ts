// RUN --mount=type=bind sources are resolved inside their root (the build context, or the files
// of the from= stage), as BuildKit scopes them: a symlink that points outside — absolute, or up
// with `..` — is followed inside that root and never reaches the host's own files. A read-write
// bind changes what the process sees, never the context.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxRootfsTar, cleanupTempDirs, peerAvailable, runStrata, tempDir, writeTree } from '@strata/testing';

afterAll(cleanupTempDirs);

const DOCKERFILE = `FROM strata-test/busybox:latest AS data
RUN mkdir -p /only-in-stage && echo staged > /only-in-stage/marker && ln -s /only-in-stage /lnk
FROM strata-test/busybox:latest
RUN --mount=type=bind,source=abs,target=/m cat /m/inside > /via-abs && if [ -e /m/passwd ]; then echo host > /via-abs; fi
RUN --mount=type=bind,source=up,target=/m cat /m/inside > /via-up
RUN --mount=type=bind,source=sub/deep,target=/m cat /m/inside > /via-deep
RUN --mount=type=bind,from=data,source=/lnk,target=/m cat /m/marker > /via-stage
`;

describe.skipIf(!peerAvailable('runc') && !peerAvailable('crun'))('RUN --mount=type=bind source scope', () => {
  let work: string;
  beforeAll(async () => {
    work = tempDir();
    // the context holds an etc/ of its own; `abs` -> /etc must mean that one, not the host's
    writeTree(join(work, 'ctx'), { 'etc/inside': 'context etc\n', 'Dockerfile': DOCKERFILE });
    symlinkSync('/etc', join(work, 'ctx', 'abs'));
    // `..` past the context root stops at it: up -> ../../../etc is the context's etc/
    symlinkSync('../../../etc', join(work, 'ctx', 'up'));
    mkdirSync(join(work, 'ctx', 'sub'));
    symlinkSync('../../../../../etc', join(work, 'ctx', 'sub', 'deep'));
    const r = await runStrata(['--root', join(work, 'store'), 'image', 'import', busyboxRootfsTar(), 'strata-test/busybox:latest']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('follows symlinks inside the context and the stage, never out to the host', async () => {
    const root = join(work, 'store');
    const b = await runStrata(['--root', root, '-q', 'build', '--no-cache', join(work, 'ctx')]);
    expect(b.code, b.stderr).toBe(0);
    const id = b.out.trim();
    const expected: Record<string, string> = { '/via-abs': 'context etc\n', '/via-up': 'context etc\n', '/via-deep': 'context etc\n', '/via-stage': 'staged\n' };
    for (const [path, content] of Object.entries(expected)) {
      const cat = await runStrata(['--root', root, 'image', 'cat', id, path]);
      expect(cat.code, cat.stderr).toBe(0);
      expect(cat.out, path).toBe(content);
    }
  });

  it('rw: the process writes to a throwaway layer; the context is never changed (BuildKit discards the writes)', async () => {
    const ctx = join(work, 'ctx-rw');
    writeTree(ctx, {
      'precious': 'keep\n',
      'dir/inner': 'inner\n',
      'Dockerfile': [
        'FROM strata-test/busybox:latest',
        // the whole context, read-write: what the process sees changes, the context does not
        'RUN --mount=type=bind,target=/src,rw rm /src/precious && echo new > /src/added && rm -r /src/dir && ls /src > /seen-rw',
        // the next step sees the context as it was
        'RUN --mount=type=bind,target=/src cat /src/precious /src/dir/inner > /seen-after',
        // a single file, read-write
        'RUN --mount=type=bind,source=precious,target=/f,rw echo changed > /f && cat /f > /seen-file',
        // read-only (the default) stays read-only
        'RUN --mount=type=bind,target=/ro sh -c "echo x > /ro/precious" 2>/dev/null; echo $? > /ro-status',
        '',
      ].join('\n'),
    });
    const root = join(work, 'store');
    const b = await runStrata(['--root', root, '-q', 'build', '--no-cache', ctx]);
    expect(b.code, b.stderr).toBe(0);
    const id = b.out.trim();
    const cat = async (path: string) => {
      const r = await runStrata(['--root', root, 'image', 'cat', id, path]);
      expect(r.code, r.stderr).toBe(0);
      return r.out;
    };
    expect(await cat('/seen-rw')).toBe('Dockerfile\nadded\n');
    expect(await cat('/seen-after')).toBe('keep\ninner\n');
    expect(await cat('/seen-file')).toBe('changed\n');
    expect(await cat('/ro-status')).not.toBe('0\n');
    expect(readdirSync(ctx).sort()).toEqual(['Dockerfile', 'dir', 'precious']);
    expect(readFileSync(join(ctx, 'precious'), 'utf8')).toBe('keep\n');
    expect(readFileSync(join(ctx, 'dir', 'inner'), 'utf8')).toBe('inner\n');
    // nothing of the run is left mounted
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain('strata-bind');
  });

  it('a source whose link leads nowhere inside the root is not found, with one line', async () => {
    const ctx = join(work, 'ctx2');
    writeTree(ctx, { Dockerfile: 'FROM strata-test/busybox:latest\nRUN --mount=type=bind,source=gone,target=/m true\n' });
    symlinkSync('/definitely/not/here', join(ctx, 'gone'));
    const b = await runStrata(['--root', join(work, 'store'), 'build', '--no-cache', ctx]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/^strata: .*"\/gone" not found in the build context$/m);
  });
});
