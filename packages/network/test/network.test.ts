// The parts of @strata/network that need no namespace: -p specs, subnets against the host's
// routes, Docker's /etc/hosts and resolv.conf, port reservations on loopback.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, tempDir } from '@strata/testing';
import { allocatePorts, chooseSubnet, formatBinding, hostRoutes, hostsFile, parseCidr, parsePublish, portRules, publishAll, resolvConf, sameHostPort } from '../src/index';

afterAll(() => cleanupTempDirs());

describe('parsePublish: -p [IP:][HOST:]CONTAINER[/tcp|/udp]', () => {
  it.each([
    ['80', [{ hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' }]],
    ['18080:80', [{ hostIp: '', hostPort: 18080, containerPort: 80, protocol: 'tcp' }]],
    ['127.0.0.1:18080:80', [{ hostIp: '127.0.0.1', hostPort: 18080, containerPort: 80, protocol: 'tcp' }]],
    ['127.0.0.1::80/udp', [{ hostIp: '127.0.0.1', hostPort: 0, containerPort: 80, protocol: 'udp' }]],
    ['0.0.0.0:53:53/UDP', [{ hostIp: '', hostPort: 53, containerPort: 53, protocol: 'udp' }]],
    ['8000-8001:80-81', [{ hostIp: '', hostPort: 8000, containerPort: 80, protocol: 'tcp' }, { hostIp: '', hostPort: 8001, containerPort: 81, protocol: 'tcp' }]],
  ])('%s', (spec, want) => {
    expect(parsePublish(spec)).toEqual(want);
  });
  it.each([
    ['', /invalid port specification/],
    ['80:', /invalid port specification/],
    [':80', /invalid port specification/],
    ['1:2:3:4', /invalid port specification/],
    ['99999', /ports are 1-65535/],
    ['abc', /invalid container port/],
    ['300.1.1.1:80:80', /invalid IP address/],
    ['80/sctp', /invalid protocol "sctp"/],
    ['8000-8002:80-81', /ranges differ in length/],
    ['[::1]:80:80', /IPv4 only/],
  ])('refuses %j', (spec, msg) => {
    expect(() => parsePublish(spec)).toThrow(msg);
  });
  it('-P: every EXPOSEd port on an ephemeral one; the port line as Docker prints it', () => {
    expect(publishAll(['80/tcp', '53/udp', '8080'])).toEqual([
      { hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' },
      { hostIp: '', hostPort: 0, containerPort: 53, protocol: 'udp' },
      { hostIp: '', hostPort: 0, containerPort: 8080, protocol: 'tcp' },
    ]);
    expect(formatBinding({ hostIp: '', hostPort: 18080, containerPort: 80, protocol: 'tcp' })).toBe('80/tcp -> 0.0.0.0:18080');
  });
});

describe('subnets', () => {
  // /proc/net/route: docker0 172.17.0.0/16, eth0 192.168.1.0/24, 10.88.0.0/16 taken by a VPN
  const routes = hostRoutes([
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    'eth0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'tun0\t0000580A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    'strata0\t0000590A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
  ].join('\n'));
  it('reads the host routes (no default route)', () => {
    expect(routes.map((r) => `${r.iface} ${r.cidr.base >>> 24}.${(r.cidr.base >>> 16) & 255}/${r.cidr.bits}`)).toEqual(['docker0 172.17/16', 'eth0 192.168/24', 'tun0 10.88/16', 'strata0 10.89/16']);
  });
  it('picks the first default that overlaps no route but the bridge\'s own', () => {
    expect(chooseSubnet('strata0', undefined, routes)).toEqual(parseCidr('10.89.0.0/16'));
  });
  it('refuses a configured subnet that clashes with the host', () => {
    expect(() => chooseSubnet('strata0', '10.88.128.0/24', routes)).toThrow(/subnet 10\.88\.128\.0\/24 overlaps the host's route 10\.88\.0\.0\/16 on tun0/);
    expect(() => chooseSubnet('strata0', '172.16.0.0/12', routes)).toThrow(/overlaps the host's route 172\.17\.0\.0\/16 on docker0/);
    expect(chooseSubnet('strata0', '10.200.0.0/24', routes)).toEqual(parseCidr('10.200.0.0/24'));
    expect(() => parseCidr('10.0.0.0/31')).toThrow(/too small/);
    expect(() => parseCidr('nope')).toThrow(/invalid subnet/);
  });
});

describe('/etc/hosts and /etc/resolv.conf as Docker writes them', () => {
  const dir = tempDir();
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  it('hosts: localhost lines, plus the address on the bridge; the host\'s own for host', () => {
    const head = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';
    expect(hostsFile({ mode: 'bridge', hostname: 'abc', ip: '10.88.0.2' })).toBe(`${head}10.88.0.2\tabc\n`);
    expect(hostsFile({ mode: 'none', hostname: 'abc' })).toBe(head);
    expect(hostsFile({ mode: 'host', hostname: 'abc' }, file('hosts', '127.0.0.1 me\n'))).toBe('127.0.0.1 me\n');
  });
  it('resolv.conf: loopback nameservers dropped; Google\'s when none is left; the host\'s as is for host', () => {
    const f = file('r1', 'search example.org\nnameserver 127.0.0.53\nnameserver 10.0.0.2\noptions edns0\n');
    expect(resolvConf({ mode: 'bridge' }, f)).toBe('search example.org\nnameserver 10.0.0.2\noptions edns0\n');
    expect(resolvConf({ mode: 'host' }, f)).toBe('search example.org\nnameserver 127.0.0.53\nnameserver 10.0.0.2\noptions edns0\n');
    const only = file('r2', 'nameserver 127.0.0.1\nnameserver ::1\n');
    expect(resolvConf({ mode: 'bridge' }, only)).toBe('nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  });
});

describe('portRules: a DNAT rule a published port, tagged with the container', () => {
  it('binds to one address only when -p names it; keeps the protocol and the container port', () => {
    const ports = [...parsePublish('8080:80'), ...parsePublish('127.0.0.1:5353:53/udp')].map((p) => ({ ...p }));
    expect(portRules('c0ffee', '10.88.0.7', ports)).toEqual([
      '-p tcp -m tcp --dport 8080 -m comment --comment strata:c0ffee -j DNAT --to-destination 10.88.0.7:80',
      '-d 127.0.0.1/32 -p udp -m udp --dport 5353 -m comment --comment strata:c0ffee -j DNAT --to-destination 10.88.0.7:53',
    ]);
    expect(portRules('c0ffee', '10.88.0.7', [])).toEqual([]);
  });
});

describe('allocatePorts', () => {
  it('numbers ephemeral ports, and fails on a port strata or another process has, with Docker\'s words', async () => {
    const [tcp, udp] = await allocatePorts([{ hostIp: '127.0.0.1', hostPort: 0, containerPort: 80, protocol: 'tcp' }, { hostIp: '127.0.0.1', hostPort: 0, containerPort: 53, protocol: 'udp' }], []);
    expect(tcp.hostPort).toBeGreaterThan(1024);
    expect(udp.hostPort).toBeGreaterThan(1024);
    // published by another container (its record)
    await expect(allocatePorts([{ hostIp: '', hostPort: tcp.hostPort, containerPort: 80, protocol: 'tcp' }], [tcp])).rejects.toThrow(`Bind for 0.0.0.0:${tcp.hostPort} failed: port is already allocated`);
    await expect(allocatePorts([{ hostIp: '127.0.0.1', hostPort: udp.hostPort, containerPort: 1, protocol: 'udp' }], [udp])).rejects.toMatchObject({ code: 'PORT_ALLOCATED' });
    // the same number on another protocol, or another address, is free
    expect(await allocatePorts([{ hostIp: '127.0.0.2', hostPort: tcp.hostPort, containerPort: 80, protocol: 'tcp' }], [tcp])).toHaveLength(1);
    // held by some other process
    const other = createServer();
    await new Promise<void>((res) => other.listen(0, '127.0.0.1', res));
    const port = (other.address() as { port: number }).port;
    await expect(allocatePorts([{ hostIp: '127.0.0.1', hostPort: port, containerPort: 1, protocol: 'tcp' }], [])).rejects.toMatchObject({ code: 'PORT_ALLOCATED' });
    await new Promise((res) => other.close(res));
    // the same host port twice in one container
    await expect(allocatePorts([{ hostIp: '', hostPort: 18999, containerPort: 1, protocol: 'tcp' }, { hostIp: '', hostPort: 18999, containerPort: 2, protocol: 'tcp' }], [])).rejects.toThrow(/port is already allocated/);
    expect(sameHostPort({ hostIp: '', hostPort: 1, protocol: 'tcp' }, { hostIp: '127.0.0.1', hostPort: 1, protocol: 'tcp' })).toBe(true);
  });
});
