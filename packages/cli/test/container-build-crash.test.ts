// SIGKILL of `strata build` in the middle of a RUN step: the next strata command that touches
// containers removes the step's writable layer, kills its processes and runtime state; no mount
// is ever visible on the host; the store checks clean.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { busyboxRootfsTar, cleanupTempDirs, peerAvailable, processesMentioning, runStrata, STRATA_BIN, tempDir } from '@strata/testing';

afterAll(() => cleanupTempDirs());

describe.skipIf(!peerAvailable('runc'))('SIGKILL of a build during RUN', () => {
  it.each([
    ['container ls -a -q', ['container', 'ls', '-a', '-q']],
    ['store check', ['store', 'check']],
    ['store gc', ['store', 'gc']],
  ])('is cleaned up by the next strata command (%s)', async (_name, next) => {
    const work = tempDir();
    const root = join(work, 'store');
    expect((await runStrata(['image', 'import', busyboxRootfsTar(), 'strata-it-run/crash-base:1'], { root })).code).toBe(0);
    const ctx = join(work, 'ctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM strata-it-run/crash-base:1\nRUN echo started; sleep 60\n');
    const child = spawn(process.execPath, [STRATA_BIN, '--root', root, 'build', '-t', 'strata-it-run/crash:1', ctx], { stdio: 'ignore' });
    const layers = join(root, 'writable');
    let id: string | undefined;
    for (let i = 0; i < 300 && !id; i++) {
      await new Promise((r) => setTimeout(r, 100));
      for (const n of existsSync(layers) ? readdirSync(layers) : []) {
        if (existsSync(join(layers, n, 'runtime', n, 'state.json'))) id = n;
      }
    }
    expect(id, 'the RUN step started').toBeDefined();
    await new Promise((r) => setTimeout(r, 300));
    expect(processesMentioning(id!).length).toBeGreaterThan(0);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(root);
    const first = await runStrata(next, { root });
    expect(first.code, first.out + first.stderr).toBe(0);
    expect(existsSync(join(layers, id!))).toBe(false);
    expect(processesMentioning(id!)).toEqual([]);
    expect((await runStrata(['container', 'ls', '-a', '-q'], { root })).out).toBe('');
    const check = await runStrata(['store', 'check'], { root });
    expect(check.code, check.out + check.stderr).toBe(0);
  });
});
