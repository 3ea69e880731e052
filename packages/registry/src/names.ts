import { DEFAULT_DOMAIN } from '@strata/oci';

/** Docker Hub's API host: `docker.io` names it, but the API answers elsewhere. */
export const DOCKER_HUB_API = 'registry-1.docker.io';
/** Docker Hub's key in `config.json` (`auths`, credential helpers), kept from the v1 days. */
export const DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/';

/** The host a reference's domain is reached at (`docker.io` → `registry-1.docker.io`). */
export function apiHost(domain: string): string {
  return domain === DEFAULT_DOMAIN || domain === 'index.docker.io' ? DOCKER_HUB_API : domain;
}

/** The key credentials are stored under for a registry, as `docker login` writes it. */
export function configKey(domain: string): string {
  return domain === DEFAULT_DOMAIN || domain === 'index.docker.io' || domain === DOCKER_HUB_API ? DOCKER_HUB_CONFIG_KEY : domain;
}

/**
 * A server argument of `login`/`logout` (`docker.io`, `https://host:5000/v2/`, `host:5000`) as the
 * registry domain it names.
 */
export function serverDomain(server: string | undefined): string {
  if (!server) return DEFAULT_DOMAIN;
  const host = server.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  return host === 'index.docker.io' || host === DOCKER_HUB_API ? DEFAULT_DOMAIN : host;
}

/** The host without its port: `[::1]:5000` → `::1`, `a.b:5000` → `a.b`. */
export function hostname(host: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (v6) return v6[1];
  return host.replace(/:\d+$/, '');
}

/**
 * Loopback hosts, which may be reached over plain http as Docker allows (localhost, 127.0.0.0/8,
 * ::1). Every other host needs an explicit insecure setting.
 */
export function isLoopback(host: string): boolean {
  const h = hostname(host).toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * What kind of address a host names, by its IP literal (no DNS lookup): `public` for any name or
 * other address. Redirects and token realms are checked with it (see `refusedHop`).
 */
export function addressClass(host: string): 'loopback' | 'private' | 'link-local' | 'unspecified' | 'public' {
  const h = hostname(host).toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return 'loopback';
  // IPv4, or IPv4-mapped IPv6 (which URL writes in hex: ::ffff:c0a8:1)
  const dotted = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(h);
  const mapped = /^::ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}$/.exec(h);
  if (dotted || mapped) {
    const hi = mapped ? Number.parseInt(mapped[1], 16) : 0;
    const [a, b] = dotted ? [Number(dotted[1]), Number(dotted[2])] : [hi >> 8, hi & 0xff];
    if (a === 127) return 'loopback';
    if (a === 0) return 'unspecified';
    if (a === 169 && b === 254) return 'link-local';
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127)) return 'private';
    return 'public';
  }
  if (!h.includes(':')) return 'public';
  if (h === '::1') return 'loopback';
  if (h === '::') return 'unspecified';
  if (/^fe[89ab]/.test(h)) return 'link-local';
  if (/^f[cd]/.test(h)) return 'private';
  return 'public';
}

/**
 * Why a registry may not send strata from `from` to `to` (a redirect, a token realm, an upload
 * location), or undefined when it may. Only http(s); never to a link-local (cloud metadata) or
 * unspecified address; to a loopback or private address only from a registry of the same kind
 * (a registry on the internet cannot point strata at the machine or network it runs on).
 */
export function refusedHop(from: URL, to: URL): string | undefined {
  if (to.protocol !== 'https:' && to.protocol !== 'http:') return `a ${to.protocol} URL`;
  const target = addressClass(to.host);
  if (target === 'public') return undefined;
  if (target === 'link-local' || target === 'unspecified') return `a ${target} address`;
  const origin = addressClass(from.host);
  return origin === target ? undefined : `a ${target} address, from a ${origin === 'public' ? 'non-local' : origin} registry`;
}
