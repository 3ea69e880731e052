// Issue #17 acceptance: dive's five numbers (efficiency, sizeBytes, userSizeBytes, wastedBytes,
// wastedUserPercent) on images built with real Docker for every case dive counts (add, overwrite,
// delete, delete a whole directory, an opaque directory, hard links, files and a directory moved
// between layers). The expected values come from an independent implementation of dive's formulas
// (efficiency/dive_formulas.py: Python's tarfile over the `docker save` archive), not from strata.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, docker, dockerOk, ensureDockerBusybox, peerAvailable, runStrata, tempDir } from '@strata/testing';

const DOCKERFILE = `FROM strata-test/busybox:latest
RUN mkdir -p /data/dir/sub /data/opq /data/tree/t && dd if=/dev/zero of=/data/big bs=1k count=64 2>/dev/null && echo one > /data/conf && echo a > /data/dir/a && dd if=/dev/zero of=/data/dir/sub/b bs=1k count=8 2>/dev/null && echo x > /data/opq/x && dd if=/dev/zero of=/data/move bs=1k count=4 2>/dev/null && echo t > /data/tree/t/f && ln /data/big /data/big-link
RUN echo two-longer > /data/conf && ln /data/conf /data/conf-link
RUN rm /data/big /data/big-link
RUN rm -rf /data/dir
RUN rm -rf /data/opq && mkdir /data/opq && echo y > /data/opq/y
RUN mv /data/move /data/moved && mv /data/tree /data/moved-tree
COPY add.txt /data/added.txt
`;

interface Expected {
  efficiency: number;
  sizeBytes: number;
  userSizeBytes: number;
  wastedBytes: number;
  wastedUserPercent: number;
  fileReference: Array<[number, number, string]>;
}

describe.skipIf(!peerAvailable('docker') || !peerAvailable('python3'))('image efficiency = dive formulas over docker save', () => {
  const TAG = 'strata-it-efficiency/waste:1';
  let dir = '';
  let root = '';
  let archive = '';
  let expected: Expected;

  beforeAll(async () => {
    ensureDockerBusybox();
    dir = await tempDir();
    writeFileSync(join(dir, 'Dockerfile'), DOCKERFILE);
    writeFileSync(join(dir, 'add.txt'), 'added by COPY\n');
    await dockerOk(['build', '-q', '-t', TAG, dir]);
    archive = join(dir, 'waste.tar');
    await dockerOk(['save', '-o', archive, TAG]);
    expected = JSON.parse(execFileSync('python3', [new URL('efficiency/dive_formulas.py', import.meta.url).pathname, archive], { encoding: 'utf8' }));
    root = join(dir, 'store');
    const load = await runStrata(['image', 'load', '-i', archive], { root });
    expect(load.code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await docker(['rmi', TAG]);
    await cleanupTempDirs();
  });

  const figures = (out: string) => {
    const i = JSON.parse(out).image;
    return { efficiency: i.efficiencyScore, sizeBytes: i.sizeBytes, userSizeBytes: i.userSizeBytes, wastedBytes: i.inefficientBytes, wastedUserPercent: i.wastedUserPercent, fileReference: i.fileReference.map((f: { count: number; sizeBytes: number; file: string }) => [f.count, f.sizeBytes, f.file]) };
  };

  it('the independent implementation sees every case (sanity of the fixture)', () => {
    const files = expected.fileReference.map((f) => f[2]);
    // (a moved or deleted directory is one leaf, its whiteout, so dive never lists it)
    expect(files).toEqual(expect.arrayContaining(['/data/big', '/data/big-link', '/data/conf', '/data/move', '/etc']));
    expect(expected.wastedBytes).toBeGreaterThan(65536);
  });

  it.each(['store', 'docker-archive'])('the five numbers and the inefficient files, exactly (%s input)', async (how) => {
    const ref = how === 'store' ? TAG : `docker-archive:${archive}`;
    const s = await runStrata(['--format', 'json', 'image', 'efficiency', ref], { root });
    expect([s.code, s.stderr]).toEqual([0, '']);
    expect(figures(s.out)).toEqual(expected);
    const doc = JSON.parse(s.out);
    // dive's --json keys, in its order; strata's own beside them.
    expect(Object.keys(doc)).toEqual(['layer', 'image']);
    expect(Object.keys(doc.image).slice(0, 4)).toEqual(['sizeBytes', 'inefficientBytes', 'efficiencyScore', 'fileReference']);
    expect(doc.layer.map((l: { command: string }) => l.command).at(-1)).toMatch(/COPY add.txt/);
    const moved = doc.image.fileReference.find((f: { file: string }) => f.file === '/data/move');
    expect(moved).toMatchObject({ reclaimableBytes: 4096, layers: [{ layer: 1, action: 'added', sizeBytes: 4096 }, { layer: 6, action: 'deleted', sizeBytes: 0 }] });
    expect(moved.why).toBe('written in layer 1 and deleted in layer 6: the deleted bytes still ship in the lower layer');
  });

  it('--ci: dive layout, PASS/FAIL as dive compares, exit 1 on a failed gate', async () => {
    const pass = await runStrata(['image', 'efficiency', '--ci', '--lowestEfficiency', '0.5', '--highestUserWastedPercent', 'disabled', '--highestWastedBytes', '1MB', TAG], { root, cwd: dir });
    expect(pass.code).toBe(0);
    expect(pass.out).toMatch(/^Analysis:\n {2}efficiency: {8}\d+\.\d\d %\n {2}wastedBytes: {7}\d+ bytes \(\d+ kB\)\n {2}userWastedPercent: \d+\.\d\d %\n\nInefficient Files:\n {2}Count {2}Wasted Space {2}File Path\n/);
    expect(pass.out.endsWith('Evaluation:\n  SKIP  highestUserWastedPercent (disabled)\n  PASS  highestWastedBytes (1MB)\n  PASS  lowestEfficiency (0.5)\n\nPASS [pass:2 skip:1]\n')).toBe(true);
    const fail = await runStrata(['image', 'efficiency', '--ci', TAG], { root, cwd: dir });
    // defaults: lowestEfficiency 0.9, highestUserWastedPercent 0.1, highestWastedBytes disabled
    const userFails = expected.wastedUserPercent > 0.1;
    expect(fail.code).toBe(userFails || expected.efficiency < 0.9 ? 1 : 0);
    expect(fail.out).toContain(`  ${userFails ? 'FAIL' : 'PASS'}  highestUserWastedPercent`);
  });

  it('.dive-ci in the current directory (camelCase) and --ci-config (kebab-case)', async () => {
    writeFileSync(join(dir, '.dive-ci'), 'rules:\n  lowestEfficiency: 0.999\n  highestWastedBytes: 20MB\n  highestUserWastedPercent: off\n');
    const a = await runStrata(['image', 'efficiency', '--ci', TAG], { root, cwd: dir });
    expect(a.code).toBe(1);
    expect(a.out).toContain(`  FAIL  lowestEfficiency (image efficiency is too low (efficiency=${expected.efficiency.toFixed(2)} < threshold=0.999))\n`);
    writeFileSync(join(dir, 'kebab.yaml'), "rules:\n  lowest-efficiency: '0.5'\n  highest-wasted-bytes: 1kB\n");
    const b = await runStrata(['image', 'efficiency', '--ci', '--ci-config', 'kebab.yaml', TAG], { root, cwd: dir });
    expect(b.code).toBe(1);
    expect(b.out).toContain(`  FAIL  highestWastedBytes (too many bytes wasted (wasted-bytes=${expected.wastedBytes} > threshold=1000))\n`);
  });

  it('--exclude leaves matching paths out (dive#347)', async () => {
    const s = await runStrata(['--format', 'json', 'image', 'efficiency', '--exclude', 'data/big*', '--exclude', 'etc', TAG], { root });
    const files = JSON.parse(s.out).image.fileReference.map((f: { file: string }) => f.file);
    expect(files).not.toContain('/data/big');
    expect(files).not.toContain('/etc');
    expect(files).toContain('/data/conf');
  });

  it('bad input: one line, a StrataError, exit 2', async () => {
    const bad = await runStrata(['image', 'efficiency', '--ci', '--lowestEfficiency', '2', TAG], { root, cwd: dir });
    expect([bad.code, bad.stderr]).toEqual([2, "strata: lowestEfficiency config value is outside allowed range (0-1), given '2.000000'\n"]);
    const missing = await runStrata(['image', 'efficiency', `docker-archive:${join(dir, 'nope.tar')}`], { root });
    expect(missing.code).toBe(2);
    expect(missing.stderr.split('\n').length).toBe(2);
  });
});
