import { StrataError } from '@strata/errors';

export type Protocol = 'tcp' | 'udp';

/** One published port, as `-p` asked for it: hostPort 0 means an ephemeral port. */
export interface PortSpec {
  /** '' = every address (Docker's 0.0.0.0). */
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: Protocol;
}

/** A port as published: the host port is known. */
export interface PortBinding extends PortSpec {
  hostPort: number;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

function port(s: string, what: string, spec: string): number {
  if (!/^\d{1,5}$/.test(s)) throw new StrataError('USAGE', `invalid ${what} "${s}" in -p ${spec}`);
  const n = Number(s);
  if (n < 1 || n > 65535) throw new StrataError('USAGE', `invalid ${what} "${s}" in -p ${spec}: ports are 1-65535`);
  return n;
}

function range(s: string, what: string, spec: string): number[] {
  const [a, b] = s.split('-');
  const lo = port(a, what, spec);
  const hi = b === undefined ? lo : port(b, what, spec);
  if (hi < lo) throw new StrataError('USAGE', `invalid ${what} range "${s}" in -p ${spec}`);
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

/**
 * Docker's `-p [IP:][HOST:]CONTAINER[/tcp|/udp]`, ranges included (`8000-8001:80-81`,
 * `8000-8009:80` picks a free one of the range — here: the first, as a fixed mapping of ranges
 * is all strata does). No host port: an ephemeral port chosen when the container starts.
 */
export function parsePublish(spec: string): PortSpec[] {
  let rest = spec.trim();
  let protocol: Protocol = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1).toLowerCase();
    if (p !== 'tcp' && p !== 'udp') throw new StrataError('USAGE', `invalid protocol "${p}" in -p ${spec}: tcp or udp`, { hint: 'sctp is not supported' });
    protocol = p;
    rest = rest.slice(0, slash);
  }
  let hostIp = '';
  // An IPv6 host address is bracketed: [::1]:8080:80.
  if (rest.startsWith('[')) throw new StrataError('UNSUPPORTED', `-p ${spec}: strata publishes on IPv4 only`);
  const parts = rest.split(':');
  const bad = parts.length > 3 || parts[parts.length - 1] === '' || (parts.length === 2 && parts[0] === '');
  if (bad) throw new StrataError('USAGE', `invalid port specification "${spec}"`, { hint: 'expected [IP:][HOST:]CONTAINER[/tcp|/udp]' });
  let hostPart = '';
  let containerPart: string;
  if (parts.length === 3) {
    [hostIp, hostPart, containerPart] = parts;
    if (!IPV4.test(hostIp)) throw new StrataError('USAGE', `invalid IP address "${hostIp}" in -p ${spec}`);
    if (hostIp === '0.0.0.0') hostIp = '';
  } else if (parts.length === 2) {
    [hostPart, containerPart] = parts;
  } else {
    containerPart = parts[0];
  }
  const containers = range(containerPart, 'container port', spec);
  if (!hostPart) return containers.map((c) => ({ hostIp, hostPort: 0, containerPort: c, protocol }));
  const hosts = range(hostPart, 'host port', spec);
  if (hosts.length === containers.length) return containers.map((c, i) => ({ hostIp, hostPort: hosts[i], containerPort: c, protocol }));
  if (containers.length === 1) return [{ hostIp, hostPort: hosts[0], containerPort: containers[0], protocol }];
  throw new StrataError('USAGE', `invalid port specification "${spec}": the host and container ranges differ in length`);
}

/** `-P`: every port the image EXPOSEs (`80/tcp`, `53/udp`, `8080`), each on an ephemeral host port. */
export function publishAll(exposed: Iterable<string>): PortSpec[] {
  const out: PortSpec[] = [];
  for (const e of exposed) {
    const [p, proto = 'tcp'] = e.split('/');
    if (proto !== 'tcp' && proto !== 'udp') continue;
    for (const c of range(p, 'exposed port', e)) out.push({ hostIp: '', hostPort: 0, containerPort: c, protocol: proto });
  }
  return out;
}

/** `80/tcp` — Docker's key for a container port. */
export function portKey(p: Pick<PortSpec, 'containerPort' | 'protocol'>): string {
  return `${p.containerPort}/${p.protocol}`;
}

/** Docker's `port` output line: `80/tcp -> 0.0.0.0:18080`. */
export function formatBinding(p: PortBinding): string {
  return `${portKey(p)} -> ${p.hostIp || '0.0.0.0'}:${p.hostPort}`;
}
