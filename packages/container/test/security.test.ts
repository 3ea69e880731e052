// Docker's security defaults and limits, strata against `docker run` on the same image: the
// default seccomp profile (unshare -r fails), no mount without CAP_SYS_ADMIN, capabilities as
// --cap-add/--cap-drop make them, no-new-privileges, a profile of one's own, --pids-limit,
// --memory (the OOM kill, 137), --cpus; and a build's RUN step under the same profile.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_TAG, busyboxRootfsTar, cleanupTempDirs, docker, ensureDockerBusybox, isRoot, peerAvailable, requireOrSkip, runStrata, tempDir } from '@strata/testing';

const ok = requireOrSkip(isRoot(), 'needs root') && peerAvailable('runc') && peerAvailable('docker');

describe.skipIf(!ok)('security and limits, against docker run', () => {
  const work = tempDir('strata-sec-');
  const root = join(work, 'store');
  const s = (args: string[]) => runStrata(['container', 'run', '--rm', '--network', 'none', ...args], { root });
  const d = (args: string[]) => docker(['run', '--rm', '--network', 'none', ...args]);
  const both = async (args: string[]) => ({ d: await d(args), s: await s(args) });

  beforeAll(async () => {
    ensureDockerBusybox();
    const r = await runStrata(['image', 'import', '--change', 'CMD ["sh"]', busyboxRootfsTar(), BUSYBOX_TAG], { root });
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);
  afterAll(() => cleanupTempDirs());

  it('unshare -r (a user namespace, which the default seccomp profile blocks) fails in both; seccomp=unconfined allows it', async () => {
    const r = await both([BUSYBOX_TAG, 'unshare', '-r', 'true']);
    expect(r.d.code).not.toBe(0);
    expect(r.s.code).toBe(r.d.code);
    expect(r.s.stderr).toBe(r.d.stderr);
    expect(r.s.stderr).toMatch(/Operation not permitted/);
    expect((await s(['--security-opt', 'seccomp=unconfined', BUSYBOX_TAG, 'unshare', '-r', 'true'])).code).toBe(0);
  });

  it('mount -t tmpfs none /tmp fails in both', async () => {
    const r = await both([BUSYBOX_TAG, 'mount', '-t', 'tmpfs', 'none', '/tmp']);
    expect(r.d.code).not.toBe(0);
    expect([r.s.code, r.s.stderr]).toEqual([r.d.code, r.d.stderr]);
  });

  it('capabilities: the default set, --cap-drop ALL --cap-add, --cap-add SYS_ADMIN, as Docker', async () => {
    for (const flags of [[], ['--cap-drop', 'ALL', '--cap-add', 'NET_BIND_SERVICE'], ['--cap-drop', 'chown', '--cap-drop', 'KILL'], ['--cap-add', 'SYS_ADMIN'], ['-u', '1000']]) {
      const r = await both([...flags, BUSYBOX_TAG, 'grep', '^Cap', '/proc/self/status']);
      expect(r.s.out, flags.join(' ')).toBe(r.d.out);
    }
    const bad = await s(['--cap-add', 'NOPE', BUSYBOX_TAG, 'true']);
    expect([bad.code, bad.stderr.split('\n')[0]]).toEqual([2, 'strata: unknown capability: "CAP_NOPE"']);
  });

  it('--security-opt no-new-privileges and seccomp=PROFILE.json, as Docker', async () => {
    const r = await both(['--security-opt', 'no-new-privileges', BUSYBOX_TAG, 'grep', 'NoNewPrivs', '/proc/self/status']);
    expect(r.s.out).toBe('NoNewPrivs:\t1\n');
    expect(r.s.out).toBe(r.d.out);
    // A profile of one's own: everything allowed but mkdir and mkdirat (EPERM).
    const profile = join(work, 'no-mkdir.json');
    writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }));
    const p = await both(['--security-opt', `seccomp=${profile}`, BUSYBOX_TAG, 'mkdir', '/tmp/x']);
    expect(p.d.code).not.toBe(0);
    expect([p.s.code, p.s.stderr]).toEqual([p.d.code, p.d.stderr]);
    const badFile = await s(['--security-opt', `seccomp=${join(work, 'nosuch.json')}`, BUSYBOX_TAG, 'true']);
    expect(badFile.code).toBe(2);
    expect(badFile.stderr).toMatch(/^strata: opening seccomp profile \(.*nosuch\.json\) failed/);
    expect((await s(['--security-opt', 'bogus', BUSYBOX_TAG, 'true'])).stderr).toMatch(/^strata: invalid --security-opt: bogus/);
  });

  it('--pids-limit 20 stops a fork loop in both', async () => {
    const loop = ['sh', '-c', 'i=0; while [ $i -lt 40 ]; do sleep 5 & i=$((i+1)); done 2>&1 | head -1; kill $(jobs -p) 2>/dev/null; true'];
    const r = await both(['--pids-limit', '20', BUSYBOX_TAG, ...loop]);
    expect(r.d.out + r.d.stderr).toMatch(/can't fork/);
    expect(r.s.out + r.s.stderr).toMatch(/can't fork/);
  });

  it('--memory 32m: a process allocating 64 MB ends in the OOM kill Docker reports (137)', async () => {
    const r = await both(['--memory', '32m', BUSYBOX_TAG, 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1']);
    expect(r.d.code).toBe(137);
    expect(r.s.code).toBe(137);
    expect((await s(['--memory', '32m', BUSYBOX_TAG, 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=8M', 'count=1'])).code).toBe(0);
    expect((await s(['--memory', '1m', BUSYBOX_TAG, 'true'])).stderr).toMatch(/Minimum memory limit allowed is 6MB/);
  });

  it('--cpus 0.5 sets a CFS quota of 50 ms per 100 ms, as Docker', async () => {
    const show = [BUSYBOX_TAG, 'sh', '-c', 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us 2>/dev/null || cat /sys/fs/cgroup/cpu.max'];
    const r = await both(['--cpus', '0.5', ...show]);
    expect(r.s.out).toBe(r.d.out);
    expect(r.s.out).toMatch(/^(50000\n100000|50000 100000)\n$/);
  });

  it('--privileged, where the host lets even Docker run it', async (t) => {
    const probe = await d(['--privileged', BUSYBOX_TAG, 'true']);
    // This sandbox withholds capabilities from Docker too: --privileged cannot start here.
    if (probe.code !== 0) t.skip();
    const r = await both(['--privileged', BUSYBOX_TAG, 'sh', '-c', 'grep CapEff /proc/self/status; mount -t tmpfs none /mnt && echo mounted']);
    expect(r.s.out).toBe(r.d.out);
  });

  it('a RUN step gets the same seccomp profile as a container (as BuildKit\'s)', async () => {
    const ctx = join(work, 'ctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${BUSYBOX_TAG}\nRUN unshare -r true\n`);
    const dBuild = await docker(['build', '--network', 'none', '-q', ctx]);
    expect(dBuild.code).not.toBe(0);
    expect(dBuild.stderr).toMatch(/Operation not permitted/);
    const b = await runStrata(['build', ctx], { root });
    expect(b.code).not.toBe(0);
    expect(b.stderr).toMatch(/Operation not permitted/);
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${BUSYBOX_TAG}\nRUN grep -c . /proc/self/status && grep Seccomp: /proc/self/status\n`);
    const ok2 = await runStrata(['build', '--progress', 'plain', ctx], { root });
    expect(ok2.code, ok2.stderr).toBe(0);
    expect(ok2.stderr + ok2.out).toMatch(/Seccomp:\s+2/);
  });
});
