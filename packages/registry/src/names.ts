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
