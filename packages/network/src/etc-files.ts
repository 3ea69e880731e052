import { readFileSync } from 'node:fs';

/** The IPv4 and IPv6 lines of every /etc/hosts Docker writes for a container with its own network. */
const HOSTS_HEAD = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

/**
 * /etc/hosts as Docker writes it: the host's own file for `host`; else the localhost lines,
 * plus `IP\tHOSTNAME` when the container has an address (bridge), nothing more for `none`.
 */
export function hostsFile(o: { mode: 'host' | 'none' | 'bridge'; hostname: string; ip?: string }, hostFile = '/etc/hosts'): string {
  if (o.mode === 'host') {
    try {
      return readFileSync(hostFile, 'utf8');
    } catch {
      // fall through to the container form
    }
  }
  const lines = [...HOSTS_HEAD];
  if (o.ip) lines.push(`${o.ip}\t${o.hostname}`);
  return `${lines.join('\n')}\n`;
}

const DEFAULT_DNS = ['nameserver 8.8.8.8', 'nameserver 8.8.4.4'];

/** Only systemd-resolved's stub (127.0.0.53) in /etc/resolv.conf: read resolved's real upstream file instead, as Docker does. */
const RESOLVED_UPSTREAM = '/run/systemd/resolve/resolv.conf';

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function isLocalhostNameserver(line: string): boolean {
  const m = /^\s*nameserver\s+(\S+)/.exec(line);
  return !!m && (/^127\./.test(m[1]) || m[1] === '::1');
}

/**
 * /etc/resolv.conf as Docker makes it (libnetwork's resolvconf): the host's file for `host`;
 * otherwise the host's file without loopback nameservers (unreachable from the container's own
 * network namespace), Google's public servers when none is left. IPv6 nameservers stay out
 * (strata networks are IPv4 only), as Docker's without --ipv6.
 */
export function resolvConf(o: { mode: 'host' | 'none' | 'bridge' }, hostFile = '/etc/resolv.conf'): string {
  let text = readOr(hostFile) ?? '';
  const servers = text.split('\n').filter((l) => /^\s*nameserver\s/.test(l));
  if (servers.length && servers.every((l) => /^\s*nameserver\s+127\.0\.0\.53\s*$/.test(l))) text = readOr(RESOLVED_UPSTREAM) ?? text;
  if (o.mode === 'host') return text;
  const kept = text.split('\n').filter((l) => !isLocalhostNameserver(l) && !/^\s*nameserver\s+\S*:/.test(l));
  const body = kept.join('\n').replace(/\n{3,}/g, '\n\n').replace(/^\n+/, '');
  if (!kept.some((l) => /^\s*nameserver\s/.test(l))) return `${body.trimEnd() ? `${body.trimEnd()}\n` : ''}${DEFAULT_DNS.join('\n')}\n`;
  return body.endsWith('\n') ? body : `${body}\n`;
}
