// A container whose owner is killed (kill -9) is ended by the next strata command of any kind,
// whatever store that command uses — even when the container's own store is gone by then (its
// processes are found by their cgroup).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, isRoot, peerAvailable, processesMentioning, requireOrSkip, runStrata, STRATA_BIN, tempDir } from '@strata/testing';
import { IMAGE, importBase } from './helpers';

afterAll(() => cleanupTempDirs());

const cgroupOf = (id: string) => ['/sys/fs/cgroup/pids/strata', '/sys/fs/cgroup/strata'].map((d) => join(d, id)).find((d) => existsSync(d));

describe.skipIf(!(requireOrSkip(isRoot(), 'needs root') && peerAvailable('runc')))('crash recovery across stores', () => {
  it('a killed owner\'s container whose store was deleted is ended by a command on another store', async () => {
    const gone = join(tempDir('strata-crash-'), 'store');
    const other = join(tempDir('strata-crash-'), 'store');
    await importBase(gone);
    const child = spawn(process.execPath, [STRATA_BIN, '--root', gone, 'container', 'run', '--network', 'none', '--name', 'victim', IMAGE, 'sleep', '120'], { stdio: 'ignore' });
    let id = '';
    for (let i = 0; i < 200 && !id; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const ls = await runStrata(['container', 'ls', '-q', '--no-trunc'], { root: gone });
      const c = ls.out.trim();
      if (c && existsSync(join(gone, 'containers', c, 'runtime', c, 'state.json'))) id = c;
    }
    expect(id).not.toBe('');
    const cg = cgroupOf(id);
    expect(cg && readFileSync(join(cg, 'cgroup.procs'), 'utf8').trim()).toBeTruthy();
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    rmSync(gone, { recursive: true, force: true });
    expect(processesMentioning(id).length).toBeGreaterThan(0); // runc still runs the container
    const r = await runStrata(['image', 'ls'], { root: other });
    expect(r.code, r.stderr).toBe(0);
    expect(processesMentioning(id)).toEqual([]);
    expect(cgroupOf(id)).toBeUndefined();
    expect(existsSync(join('/run/strata/live', `${id}.json`))).toBe(false);
  });

  it('takes over a container kept the way strata kept it before (writable layer in its own directory)', async () => {
    const root = join(tempDir('strata-legacy-'), 'store');
    await importBase(root);
    const mk = await runStrata(['container', 'run', '--network', 'none', '--name', 'old', IMAGE, 'sh', '-c', 'echo kept > /kept'], { root });
    expect(mk.code, mk.stderr).toBe(0);
    const id = (await runStrata(['container', 'ls', '-a', '-q', '--no-trunc'], { root })).out.trim();
    // Back to the old layout: upper/work beside container.json, the layer's fields in the record.
    const layer = JSON.parse(readFileSync(join(root, 'writable', id, 'layer.json'), 'utf8'));
    renameSync(join(root, 'writable', id, 'upper'), join(root, 'containers', id, 'upper'));
    renameSync(join(root, 'writable', id, 'work'), join(root, 'containers', id, 'work'));
    rmSync(join(root, 'writable', id), { recursive: true });
    const rec = JSON.parse(readFileSync(join(root, 'containers', id, 'container.json'), 'utf8'));
    writeFileSync(join(root, 'containers', id, 'container.json'), JSON.stringify({ ...rec, snapshots: layer.snapshots, diffIds: layer.diffIds, cow: layer.mode }));
    // and an old build step's record whose process is gone
    const step = 'b'.repeat(64);
    mkdirSync(join(root, 'containers', step, 'upper'), { recursive: true });
    writeFileSync(join(root, 'containers', step, 'container.json'), JSON.stringify({ id: step, name: 'build-x', image: null, state: 'running', ephemeral: true, owner: { pid: 999999999, start: 'x' }, snapshots: [], config: {} }));
    const ls = await runStrata(['container', 'ls', '-a', '-q'], { root });
    expect(ls.out).toBe(`${id.slice(0, 12)}\n`);
    expect(existsSync(join(root, 'containers', step))).toBe(false);
    const r = await runStrata(['container', 'diff', 'old'], { root });
    expect(r.out).toBe('A /kept\n');
    expect(existsSync(join(root, 'writable', id, 'layer.json'))).toBe(true);
    expect((await runStrata(['container', 'start', '-a', 'old'], { root })).code).toBe(0);
    expect((await runStrata(['container', 'rm', 'old'], { root })).code).toBe(0);
    expect(existsSync(join(root, 'writable', id))).toBe(false);
  });
});
