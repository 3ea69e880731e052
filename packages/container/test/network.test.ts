// Publishing ports on the bridge, against Docker 20.10 with its default bridge networking and
// iptables (a dockerd of the test's own, see tools/docker-with-iptables.mjs), then the leak checks: 50
// `run -p … --rm` cycles and a kill -9 of strata, after which the host's netfilter rules, veths,
// namespaces, leases and mounts are as before. Traffic goes only to 127.0.0.1 and to addresses
// on the test's bridges (inside namespaces the test or strata made). All bridge-network tests of
// strata live in this one file, so the counts are not disturbed by another file's containers.
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachedIds, removeNetwork, BRIDGE_NAME } from '@strata/network';
import { busyboxRootfsTar, cleanupTempDirs, isRoot, peerAvailable, requireOrSkip, runStrata, STRATA_BIN, tempDir } from '@strata/testing';
import { hostCounts, httpGet, httpUntil, HTTPD, IMAGE, importBase, natRulesFor, strata, udpEcho, udpEchoServerIn, udpFlow } from './helpers';
import { startTestDockerd, TEST_SUBNET_PREFIX, type TestDockerd } from '../../../tools/docker-with-iptables.mjs';

const ok = requireOrSkip(isRoot(), 'needs root') && peerAvailable('runc') && peerAvailable('docker');

describe.skipIf(!ok)('published ports on the bridge, against Docker 20.10', () => {
  const root = join(tempDir('strata-net-'), 'store');
  const s = strata(root);
  let dk: TestDockerd;
  let gw = '';

  beforeAll(async () => {
    await importBase(root);
    dk = await startTestDockerd({ rootfsTar: busyboxRootfsTar(), image: IMAGE });
  }, 180_000);

  afterAll(async () => {
    await dk?.stop();
    for (const id of (await s(['container', 'ls', '-a', '-q', '--no-trunc'])).out.split('\n').filter(Boolean)) await s(['container', 'rm', '-f', id]);
    // Leave the host as found: the bridge and strata's chains (when nothing uses them).
    await removeNetwork();
    cleanupTempDirs();
  }, 120_000);

  /** Until no other strata container is on the bridge (another test file's), at most 60 s. */
  const quiet = async () => {
    for (let i = 0; i < 240 && (hostCounts().teardownRecords > 0 || hostCounts().live > 0); i++) await new Promise((r) => setTimeout(r, 250));
  };
  /**
   * The counts once they equal `want` (what other test processes on this machine put on the
   * bridge meanwhile goes again within a minute; a leak of ours does not).
   */
  const settled = async (want: ReturnType<typeof hostCounts>) => {
    let now = hostCounts();
    for (let i = 0; i < 120 && JSON.stringify(now) !== JSON.stringify(want); i++) {
      await new Promise((r) => setTimeout(r, 500));
      now = hostCounts();
    }
    return now;
  };
  const runD = async (args: string[]) => {
    const r = await s(['container', 'run', '-d', ...args]);
    expect(r.code, r.stderr).toBe(0);
    return r.out.trim();
  };
  const dockerD = (args: string[]) => {
    const r = dk.docker(['run', '-d', ...args]);
    expect(r.code, r.err).toBe(0);
    return r.out.trim();
  };

  it('-p 18080:80 answers on 127.0.0.1, on the gateway, and from a second container through the gateway', async () => {
    // Docker
    const d = dockerD(['-p', '18080:80', IMAGE, ...HTTPD]);
    expect(await httpUntil('127.0.0.1', 18080, 'hello')).toBe('hello\n');
    expect(await httpGet(dk.gateway, 18080)).toBe('hello\n');
    const dFromPeer = dk.docker(['run', '--rm', IMAGE, 'wget', '-qO-', `http://${dk.gateway}:18080/`]);
    expect(dFromPeer.out).toBe('hello\n');
    // the client's address as the server sees it, on the gateway path
    const dAddr = (await httpGet(dk.gateway, 18080, '/cgi-bin/addr')).trim();
    dk.docker(['rm', '-f', d]);

    // strata
    const c = await runD(['--name', 'web', '-p', '18080:80', IMAGE, ...HTTPD]);
    const info = JSON.parse((await s(['container', 'inspect', c])).out)[0];
    gw = info.NetworkSettings.Gateway;
    expect(gw).toMatch(/^\d+\.\d+\.\d+\.1$/);
    expect(await httpUntil('127.0.0.1', 18080, 'hello')).toBe('hello\n');
    expect(await httpGet(gw, 18080)).toBe('hello\n');
    const fromPeer = await s(['container', 'run', '--rm', IMAGE, 'wget', '-qO-', `http://${gw}:18080/`]);
    expect(fromPeer.out).toBe('hello\n');
    const addr = (await httpGet(gw, 18080, '/cgi-bin/addr')).trim();
    // Both see the gateway's own address as the client's (busybox httpd prints it IPv4-mapped).
    expect(dAddr).toBe(`[::ffff:${dk.gateway}]`);
    expect(addr).toBe(`[::ffff:${gw}]`);
    // containers on the bridge reach each other directly
    const direct = await s(['container', 'run', '--rm', IMAGE, 'wget', '-qO-', `http://${info.NetworkSettings.IPAddress}:80/`]);
    expect(direct.out).toBe('hello\n');
  });

  it('a taken port fails before the container starts, with Docker\'s "port is already allocated"', async () => {
    const d = dockerD(['-p', '18081:80', IMAGE, 'sleep', '60']);
    const dTaken = dk.docker(['run', '-d', '-p', '18081:80', IMAGE, 'sleep', '60']);
    expect(dTaken.code).toBe(125);
    expect(dTaken.err).toMatch(/Bind for 0\.0\.0\.0:18081 failed: port is already allocated/);
    dk.docker(['rm', '-f', d]);
    // strata: 18080 is held by the container of the test before
    const before = (await s(['container', 'ls', '-a', '-q'])).out;
    const taken = await s(['container', 'run', '--rm', '-p', '18080:80', IMAGE, 'true']);
    expect(taken.code).toBe(125);
    expect(taken.stderr.split('\n')[0]).toBe('strata: Bind for 0.0.0.0:18080 failed: port is already allocated');
    const takenD = await s(['container', 'run', '-d', '-p', '18080:80', IMAGE, 'true']);
    expect(takenD.code).toBe(125);
    expect(takenD.stderr).toMatch(/port is already allocated/);
    await s(['container', 'rm', '-f', ...(await s(['container', 'ls', '-a', '-q'])).out.split('\n').filter((x) => x && !before.includes(x))]);
    expect((await s(['container', 'rm', '-f', 'web'])).code).toBe(0);
  });

  it('-p 127.0.0.1:P:80 answers on 127.0.0.1 only, not on the gateway', async () => {
    const d = dockerD(['-p', '127.0.0.1:18082:80', IMAGE, ...HTTPD]);
    expect(await httpUntil('127.0.0.1', 18082, 'hello')).toBe('hello\n');
    expect(await httpGet(dk.gateway, 18082)).toBe('ECONNREFUSED');
    dk.docker(['rm', '-f', d]);
    const c = await runD(['-p', '127.0.0.1:18082:80', IMAGE, ...HTTPD]);
    expect(await httpUntil('127.0.0.1', 18082, 'hello')).toBe('hello\n');
    expect(await httpGet(gw, 18082)).toBe('ECONNREFUSED');
    expect((await s(['container', 'port', c])).out).toBe('80/tcp -> 127.0.0.1:18082\n');
    await s(['container', 'rm', '-f', c]);
  });

  it('-p 80 gets an ephemeral port that `container port` shows; -P publishes what the image EXPOSEs', async () => {
    for (const flags of [['-p', '80'], ['-P']]) {
      const d = dockerD([...flags, IMAGE, ...HTTPD]);
      const dPort = dk.docker(['port', d, '80/tcp']).out.trim().split('\n')[0];
      expect(dPort).toMatch(/^0\.0\.0\.0:\d+$/);
      expect(await httpUntil('127.0.0.1', Number(dPort.split(':')[1]), 'hello')).toBe('hello\n');
      dk.docker(['rm', '-f', d]);
      const c = await runD([...flags, IMAGE, ...HTTPD]);
      const all = (await s(['container', 'port', c])).out;
      expect(all).toMatch(/^80\/tcp -> 0\.0\.0\.0:\d+\n$/);
      const port = (await s(['container', 'port', c, '80/tcp'])).out.trim();
      expect(port).toBe(all.trim().split(' -> ')[1]);
      expect(Number(port.split(':')[1])).toBeGreaterThan(1024);
      expect(await httpUntil('127.0.0.1', Number(port.split(':')[1]), 'hello')).toBe('hello\n');
      const ls = JSON.parse((await s(['--format', 'json', 'container', 'ls'])).out.trim().split('\n').find((l) => l.includes(c))!);
      expect(ls.Ports).toBe(`${port}->80/tcp`);
      await s(['container', 'rm', '-f', c]);
    }
    const none = await s(['container', 'port', 'nosuch']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^strata: no such container: nosuch\n/);
  });

  it('/udp is published too (an echo server in the container\'s network namespace)', async () => {
    const d = dockerD(['-p', '18083:5353/udp', IMAGE, 'sleep', '60']);
    const pid = dk.docker(['inspect', '-f', '{{.State.Pid}}', d]).out.trim();
    const dEcho = udpEchoServerIn(`/proc/${pid}/ns/net`, 5353);
    await dEcho.ready;
    expect(await udpEcho('127.0.0.1', 18083, 'ping-docker')).toBe('ping-docker');
    dEcho.stop();
    dk.docker(['rm', '-f', d]);
    const c = await runD(['-p', '18093:5353/udp', IMAGE, 'sleep', '60']);
    const netns = JSON.parse((await s(['container', 'inspect', c])).out)[0].NetworkSettings.SandboxKey;
    expect(netns).toMatch(/^\/run\/netns\/strata-/);
    const echo = udpEchoServerIn(netns, 5353);
    await echo.ready;
    expect(await udpEcho('127.0.0.1', 18093, 'ping-strata')).toBe('ping-strata');
    expect((await s(['container', 'port', c])).out).toBe('5353/udp -> 0.0.0.0:18093\n');
    echo.stop();
    await s(['container', 'rm', '-f', c]);
  });

  it('a UDP flow that began before the mapping is translated once the port is published (stale conntrack entries go)', async () => {
    // A client sends to 18095/udp while nothing is published: the kernel remembers that flow
    // untranslated for 30 s; without clearing it, the same client's datagrams would keep going
    // to the host's own (closed) port after the container publishes it.
    const flow = udpFlow('127.0.0.1', 18095);
    try {
      expect(await flow.echo('early', 300)).toBe('TIMEOUT');
      const c = await runD(['-p', '18095:5353/udp', IMAGE, 'sleep', '60']);
      const netns = JSON.parse((await s(['container', 'inspect', c])).out)[0].NetworkSettings.SandboxKey;
      const echo = udpEchoServerIn(netns, 5353);
      await echo.ready;
      expect(await flow.echo('after')).toBe('after');
      echo.stop();
      await s(['container', 'rm', '-f', c]);
    } finally {
      flow.close();
    }
  });

  it('a container\'s port rules go at teardown even when some are already gone', async () => {
    const c = await runD(['-p', '18096:80', '-p', '18097:81/udp', IMAGE, 'sleep', '60']);
    const tagged = () => execFileSync('iptables', ['-w', '-t', 'nat', '-S', 'STRATA-DNAT'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(`strata:${c}`));
    const rules = tagged();
    expect(rules).toHaveLength(2);
    expect(rules[0]).toMatch(/^-A STRATA-DNAT -p tcp -m tcp --dport 18096 -m comment --comment "?strata:[0-9a-f]{64}"? -j DNAT --to-destination [\d.]+:80$/);
    // someone removes one of them by hand: the exact removal fails, the listing finds the other
    execFileSync('iptables', ['-w', '-t', 'nat', '-D', 'STRATA-DNAT', ...rules[0].split(' ').slice(2).map((w) => w.replace(/^"|"$/g, ''))]);
    expect(tagged()).toHaveLength(1);
    expect((await s(['container', 'rm', '-f', c])).code).toBe(0);
    expect(tagged()).toEqual([]);
  });

  it('outbound traffic is masqueraded as Docker\'s is (the rules, not traffic to outside)', async () => {
    const d = dockerD([IMAGE, 'sleep', '60']);
    const dNat = execFileSync('iptables', ['-w', '-t', 'nat', '-S', 'POSTROUTING'], { encoding: 'utf8' });
    expect(dNat).toMatch(new RegExp(`-A POSTROUTING -s ${TEST_SUBNET_PREFIX.replace(/\./g, '\\.')}0/24 ! -o stratadk0 -j MASQUERADE`));
    dk.docker(['rm', '-f', d]);
    const c = await runD([IMAGE, 'sleep', '60']);
    const info = JSON.parse((await s(['container', 'inspect', c])).out)[0].NetworkSettings;
    const subnet = `${info.Gateway.replace(/\.1$/, '.0')}/${info.IPPrefixLen}`;
    // Docker's rule, word for word: the subnet's traffic leaving by another interface than the bridge.
    const nat = execFileSync('iptables', ['-w', '-t', 'nat', '-S'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n');
    expect(nat).toContain(`-A STRATA-POSTROUTING -s ${subnet} ! -o strata0 -j MASQUERADE`);
    expect(nat).toContain('-A POSTROUTING -j STRATA-POSTROUTING');
    // and nothing a container (the CNI bridge plugin's per-container masquerading is off)
    expect(natRulesFor(info.IPAddress)).toEqual([]);
    // strata's FORWARD chain lets the bridge's traffic through whatever FORWARD's policy is.
    const fwd = execFileSync('iptables', ['-w', '-S', 'FORWARD'], { encoding: 'utf8' });
    expect(fwd.split('\n')).toContain('-A FORWARD -j STRATA-FORWARD');
    // the default route is the bridge's gateway (isDefaultGateway)
    const route = await s(['container', 'exec', c, 'ip', 'route']);
    expect(route.out).toMatch(new RegExp(`^default via ${info.Gateway.replace(/\./g, '\\.')} dev eth0`));
    await s(['container', 'rm', '-f', c]);
  });

  it('/etc/hosts, /etc/hostname and /etc/resolv.conf as Docker generates them', async () => {
    const show = ['sh', '-c', 'cat /etc/hosts; echo ---; cat /etc/hostname; echo ---; cat /etc/resolv.conf; echo ---; hostname'];
    const norm = (t: string, ip: string, host: string) => t.split(ip).join('IP').split(host).join('HOST');
    for (const mode of ['bridge', 'none', 'host']) {
      const d = dockerD(['--network', mode, IMAGE, 'sleep', '30']);
      const dOut = dk.docker(['exec', d, ...show]).out;
      const dIp = dk.docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', d]).out.trim() || 'none';
      const dHost = dk.docker(['inspect', '-f', '{{.Config.Hostname}}', d]).out.trim();
      dk.docker(['rm', '-f', d]);
      const c = await runD(['--network', mode, IMAGE, 'sleep', '30']);
      const out = (await s(['container', 'exec', c, ...show])).out;
      const info = JSON.parse((await s(['container', 'inspect', c])).out)[0];
      expect(norm(out, info.NetworkSettings.IPAddress || 'none', info.Config.Hostname), mode).toBe(norm(dOut, dIp, dHost));
      await s(['container', 'rm', '-f', c]);
    }
  });

  it('--network container:ID shares the other container\'s network stack', async () => {
    const a = await runD(['--name', 'net-a', '-p', '18084:80', IMAGE, ...HTTPD]);
    expect(await httpUntil('127.0.0.1', 18084, 'hello')).toBe('hello\n');
    const b = await s(['container', 'run', '--rm', '--network', 'container:net-a', IMAGE, 'wget', '-qO-', 'http://127.0.0.1:80/']);
    expect(b.out).toBe('hello\n');
    const conflict = await s(['container', 'run', '--rm', '--network', 'container:net-a', '-p', '1:1', IMAGE, 'true']);
    expect(conflict.stderr).toMatch(/conflicting options: port publishing and the container type network mode/);
    await s(['container', 'rm', '-f', a]);
  });

  it('nothing leaks after 50 `run -p … --rm` cycles', async () => {
    // (what a failed test above left running goes first)
    for (const id of (await s(['container', 'ls', '-a', '-q', '--no-trunc'])).out.split('\n').filter(Boolean)) await s(['container', 'rm', '-f', id]);
    // The first run sets up the network itself (the bridge, strata's FORWARD, nat and DNAT
    // chains): those stay between containers, as docker0 and Docker's chains do.
    expect((await s(['container', 'run', '--rm', '-p', '18085:80', IMAGE, 'true'])).code).toBe(0);
    await quiet();
    const before = hostCounts();
    const attached = `attached now: ${JSON.stringify(attachedIds())}; containers: ${(await s(['container', 'ls', '-a'])).out}`;
    expect(before, attached).toMatchObject({ veths: 0, netns: 0, leases: 0, teardownRecords: 0, live: 0 });
    for (let i = 0; i < 50; i++) {
      const r = await s(['container', 'run', '--rm', '-p', '18085:80', '-p', '18086:53/udp', IMAGE, 'true']);
      expect(r.code, r.stderr).toBe(0);
    }
    await quiet();
    expect(await settled(before)).toEqual(before);
    expect((await s(['container', 'ls', '-a', '-q'])).out).toBe('');
  }, 600_000);

  it.each([
    ['image ls', ['image', 'ls']],
    ['volume ls', ['volume', 'ls']],
  ])('after kill -9 of strata while a container runs, the next command (%s) leaves nothing behind', async (_n, next) => {
    await quiet();
    const before = hostCounts();
    const child = spawn(process.execPath, [STRATA_BIN, '--root', root, 'container', 'run', '--rm', '-p', '18087:80', IMAGE, ...HTTPD], { stdio: 'ignore' });
    expect(await httpUntil('127.0.0.1', 18087, 'hello', 100)).toBe('hello\n');
    const during = hostCounts();
    expect(during.netns).toBe(before.netns + 1);
    expect(during.veths).toBe(before.veths + 1);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    // The container still runs (its strata is gone, not the runtime): the next command of any kind tears it down.
    expect(await httpGet('127.0.0.1', 18087)).toBe('hello\n');
    const r = await s(next);
    expect(r.code, r.stderr).toBe(0);
    await quiet();
    expect(await settled(before)).toEqual(before);
    expect(await httpGet('127.0.0.1', 18087)).toBe('ECONNREFUSED');
    expect((await s(['container', 'ls', '-a', '-q'])).out).toBe('');
  }, 120_000);

  it('the bridge is strata0; asking for another subnet while it exists is refused', async () => {
    expect(execFileSync('ip', ['-br', 'link', 'show', BRIDGE_NAME], { encoding: 'utf8' })).toMatch(/^strata0 /);
    const keep = await runD([IMAGE, 'sleep', '30']);
    const r = await runStrata(['container', 'run', '--rm', IMAGE, 'true'], { root, env: { STRATA_BRIDGE_SUBNET: '10.99.0.0/16' } });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^strata: the strata0 network exists with subnet \S+, not 10\.99\.0\.0\/16\n/);
    await s(['container', 'rm', '-f', keep]);
  });
});
