// Docker's security defaults through runc: the default seccomp profile (unshare -r fails),
// no CAP_SYS_ADMIN (mount fails), --security-opt seccomp=unconfined, no-new-privileges,
// --cap-add/--cap-drop, --pids-limit and --memory on this machine's cgroups.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxRootfsTar, cleanupTempDirs, isRoot, peerAvailable, requireOrSkip, tempDir } from '@strata/testing';
import { buildSpec, capabilitySet, defaultSeccompProfile, resolveUser, runProcess, seccompForSpec, type RunProcessOptions } from '../src/index';

afterAll(() => cleanupTempDirs());

describe('seccomp profile translation (Docker\'s includes/excludes)', () => {
  const profile = defaultSeccompProfile();
  const names = (spec: Record<string, unknown>) => (spec.syscalls as Array<{ names: string[] }>).flatMap((s) => s.names);

  it('default caps: no unshare/mount/setns, clone only without namespace flags, clone3 → ENOSYS', () => {
    const s = seccompForSpec(profile, capabilitySet({}), { arch: 'x64', kernel: '6.1.0' });
    expect(s.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(s.defaultErrnoRet).toBe(1);
    expect(s.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    const n = names(s);
    for (const sys of ['read', 'write', 'socket', 'clone', 'arch_prctl']) expect(n).toContain(sys);
    for (const sys of ['unshare', 'mount', 'setns', 'reboot', 'bpf', 'init_module']) expect(n).not.toContain(sys);
    const clone = (s.syscalls as Array<{ names: string[]; args?: Array<{ op: string; value: number }> }>).find((r) => r.names.includes('clone'));
    expect(clone?.args?.[0]).toMatchObject({ op: 'SCMP_CMP_MASKED_EQ', value: 2114060288 });
    const clone3 = (s.syscalls as Array<{ names: string[]; action: string; errnoRet?: number }>).find((r) => r.names.includes('clone3'));
    expect(clone3).toMatchObject({ action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
  });

  it('CAP_SYS_ADMIN adds the namespace and mount calls and drops the clone filter', () => {
    const s = seccompForSpec(profile, capabilitySet({ capAdd: ['sys_admin'] }), { arch: 'x64', kernel: '6.1.0' });
    expect(names(s)).toEqual(expect.arrayContaining(['unshare', 'mount', 'setns']));
    expect((s.syscalls as Array<{ names: string[]; args?: unknown }>).some((r) => r.names.includes('clone') && r.args)).toBe(false);
  });

  it('arch-only rules follow the machine', () => {
    expect(names(seccompForSpec(profile, [], { arch: 'arm64', kernel: '6.1' }))).toContain('sync_file_range2');
    expect(names(seccompForSpec(profile, [], { arch: 'x64', kernel: '6.1' }))).not.toContain('sync_file_range2');
  });

  it('capabilities follow Docker\'s add/drop rules', () => {
    expect(capabilitySet({ capDrop: ['chown', 'CAP_KILL'] })).not.toEqual(expect.arrayContaining(['CAP_CHOWN']));
    expect(capabilitySet({ capDrop: ['ALL'], capAdd: ['net_bind_service'] })).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(capabilitySet({ capAdd: ['ALL'], capDrop: ['sys_admin'] })).not.toContain('CAP_SYS_ADMIN');
    expect(capabilitySet({ capAdd: ['ALL'] })).toContain('CAP_SYS_ADMIN');
    expect(() => capabilitySet({ capAdd: ['bogus'] })).toThrow(/unknown capability: "CAP_BOGUS"/);
  });

  it('buildSpec: privileged has no seccomp, masks nothing; unconfined has no seccomp; limits land in resources', () => {
    const base = { rootfsPath: 'rootfs', args: ['sh'], env: [], cwd: '/', user: resolveUser('', {}), hostname: 'h', network: 'none' as const, terminal: false, readonlyRootfs: false, mounts: [], cgroupsPath: '/strata/x' };
    const plain = buildSpec(base) as { linux: Record<string, unknown> };
    expect(plain.linux.seccomp).toBeDefined();
    expect((buildSpec({ ...base, security: { seccomp: 'unconfined' } }) as { linux: Record<string, unknown> }).linux.seccomp).toBeUndefined();
    const priv = buildSpec({ ...base, security: { privileged: true } }) as { linux: Record<string, unknown>; process: { capabilities: { bounding: string[] } } };
    expect(priv.linux.seccomp).toBeUndefined();
    expect(priv.linux.maskedPaths).toEqual([]);
    expect(priv.process.capabilities.bounding).toContain('CAP_SYS_ADMIN');
    const lim = buildSpec({ ...base, resources: { memory: 32 << 20, cpus: 0.5, pidsLimit: 20 }, swapAccounting: true }) as { linux: { resources: Record<string, unknown> } };
    expect(lim.linux.resources).toMatchObject({ memory: { limit: 32 << 20, swap: 64 << 20 }, cpu: { period: 100000, quota: 50000 }, pids: { limit: 20 } });
    const nnp = buildSpec({ ...base, security: { noNewPrivileges: true } }) as { process: { noNewPrivileges: boolean } };
    expect(nnp.process.noNewPrivileges).toBe(true);
  });
});

describe.skipIf(!requireOrSkip(isRoot(), 'needs root') || !peerAvailable('runc'))('security in a running container (runc)', () => {
  const work = tempDir('strata-sec-');
  const rootfs = join(work, 'rootfs');
  let n = 0;
  beforeAll(() => {
    mkdirSync(rootfs);
    execFileSync('tar', ['-x', '-f', busyboxRootfsTar(), '-C', rootfs]);
  });

  async function run(args: string[], extra: Partial<RunProcessOptions> = {}): Promise<{ code: number; out: string }> {
    let out = '';
    const sink = new PassThrough();
    sink.on('data', (b: Buffer) => (out += b.toString()));
    const id = `sec-${process.pid}-${n++}`;
    const r = await runProcess({ id, bundleDir: join(work, `b-${id}`), stateDir: join(work, 'state'), rootfs: { path: rootfs }, args, network: 'none', stdout: sink, stderr: sink, ...extra });
    return { code: r.exitCode, out };
  }

  it('the default profile blocks user namespaces: unshare -r fails; unconfined lets it through', async () => {
    const def = await run(['unshare', '-r', 'true']);
    expect(def.code).not.toBe(0);
    expect(def.out).toMatch(/Operation not permitted/);
    const unconfined = await run(['unshare', '-r', 'true'], { security: { seccomp: 'unconfined' } });
    expect(unconfined.code).toBe(0);
  });

  it('mount -t tmpfs fails without CAP_SYS_ADMIN', async () => {
    const r = await run(['mount', '-t', 'tmpfs', 'none', '/tmp']);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/Operation not permitted|permission denied/i);
  });

  it('--cap-drop ALL: chown fails; --cap-add: the capability appears in CapEff', async () => {
    expect((await run(['chown', '1:1', '/tmp'], { security: { capDrop: ['ALL'] } })).code).not.toBe(0);
    const r = await run(['sh', '-c', 'grep CapEff /proc/self/status'], { security: { capDrop: ['ALL'], capAdd: ['NET_ADMIN'] } });
    expect(r.out.trim()).toBe('CapEff:\t0000000000001000');
  });

  it('no-new-privileges shows in /proc/self/status', async () => {
    expect((await run(['grep', 'NoNewPrivs', '/proc/self/status'], { security: { noNewPrivileges: true } })).out).toMatch(/NoNewPrivs:\t1/);
    expect((await run(['grep', 'NoNewPrivs', '/proc/self/status'])).out).toMatch(/NoNewPrivs:\t0/);
  });

  it.skipIf(!requireOrSkip(existsSync('/sys/fs/cgroup/pids') || existsSync('/sys/fs/cgroup/cgroup.controllers'), 'no pids cgroup'))('--pids-limit 20 stops a fork loop', async () => {
    const r = await run(['sh', '-c', 'i=0; while [ $i -lt 60 ]; do sleep 3 & i=$((i+1)); done 2>&1 | head -1; kill $(jobs -p) 2>/dev/null; echo done'], { resources: { pidsLimit: 20 } });
    expect(r.out).toMatch(/can't fork|Resource temporarily unavailable/);
  });

  it.skipIf(!requireOrSkip(existsSync('/sys/fs/cgroup/memory') || existsSync('/sys/fs/cgroup/cgroup.controllers'), 'no memory cgroup'))('--memory 32m: allocating 64 MB ends in the OOM kill (137)', async () => {
    const r = await run(['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'], { resources: { memory: 32 << 20 } });
    expect(r.code).toBe(137);
    expect((await run(['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=16M', 'count=1'], { resources: { memory: 32 << 20 } })).code).toBe(0);
  });
});
