import { readFileSync } from 'node:fs';
import { StrataError } from '@strata/errors';

/** An IPv4 network: `10.88.0.0/16`. */
export interface Cidr {
  base: number;
  bits: number;
}

function ipToInt(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255)) return undefined;
  return ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

export function parseCidr(s: string): Cidr {
  const [ip, b] = s.split('/');
  const base = ipToInt(ip ?? '');
  const bits = Number(b);
  if (base === undefined || !/^\d{1,2}$/.test(b ?? '') || bits > 32) throw new StrataError('USAGE', `invalid subnet "${s}": expected an IPv4 CIDR such as 10.88.0.0/16`);
  if (bits > 30) throw new StrataError('USAGE', `subnet ${s} is too small for a bridge network (at most /30)`);
  return { base: (base & mask(bits)) >>> 0, bits };
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.base)}/${c.bits}`;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const m = mask(Math.min(a.bits, b.bits));
  return ((a.base & m) >>> 0) === ((b.base & m) >>> 0);
}

/** The first usable address (the bridge's gateway, as Docker and host-local choose it). */
export function gatewayOf(c: Cidr): string {
  return intToIp(c.base + 1);
}

/** IPv4 routes of the host (`/proc/net/route`), except default routes: what a bridge subnet must not overlap. */
export function hostRoutes(text?: string): Array<{ iface: string; cidr: Cidr }> {
  let t = text;
  if (t === undefined) {
    try {
      t = readFileSync('/proc/net/route', 'utf8');
    } catch {
      return [];
    }
  }
  const out: Array<{ iface: string; cidr: Cidr }> = [];
  for (const line of t.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    // Little-endian hex words.
    const le = (h: string) => {
      const n = parseInt(h, 16) >>> 0;
      return (((n & 255) << 24) | (((n >>> 8) & 255) << 16) | (((n >>> 16) & 255) << 8) | (n >>> 24)) >>> 0;
    };
    const dst = le(f[1]);
    const m = le(f[7]);
    const prefix = m.toString(2).replace(/0+$/, '').length;
    if (prefix === 0) continue;
    out.push({ iface: f[0], cidr: { base: dst, bits: prefix } });
  }
  return out;
}

/** Subnets tried in order when none is configured: podman's default first, then its neighbours. */
export const DEFAULT_SUBNETS = ['10.88.0.0/16', '10.89.0.0/16', '10.90.0.0/16', '10.91.0.0/16', '172.30.0.0/16', '192.168.230.0/24'];

/**
 * The bridge's subnet: the one asked for (refused when it overlaps a route of the host, other
 * than the bridge's own), else the first default that overlaps none.
 */
export function chooseSubnet(bridge: string, wanted?: string, routes = hostRoutes()): Cidr {
  const others = routes.filter((r) => r.iface !== bridge);
  const clash = (c: Cidr) => others.find((r) => overlaps(r.cidr, c));
  if (wanted) {
    const c = parseCidr(wanted);
    const r = clash(c);
    if (r) throw new StrataError('CONFLICT', `subnet ${formatCidr(c)} overlaps the host's route ${formatCidr(r.cidr)} on ${r.iface}`, { hint: 'choose another with STRATA_BRIDGE_SUBNET' });
    return c;
  }
  for (const s of DEFAULT_SUBNETS) {
    const c = parseCidr(s);
    if (!clash(c)) return c;
  }
  throw new StrataError('CONFLICT', `every default bridge subnet overlaps a route of the host (${DEFAULT_SUBNETS.join(', ')})`, { hint: 'set STRATA_BRIDGE_SUBNET to a free IPv4 subnet' });
}
