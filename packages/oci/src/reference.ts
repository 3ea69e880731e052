import { StrataError } from '@strata/errors';
import { isDigest, type Digest } from './digest';

/** A parsed, normalised image reference (Docker's rules: `busybox` = `docker.io/library/busybox:latest`). */
export interface Reference {
  /** Registry host, e.g. `docker.io`, `localhost:5000`. */
  domain: string;
  /** Repository path inside the registry, e.g. `library/busybox`. */
  path: string;
  tag?: string;
  digest?: Digest;
}

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';
const LEGACY_DOMAIN = 'index.docker.io';

const COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DOMAIN_RE = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const ID_RE = /^[a-f0-9]{64}$/;

function bad(s: string, why: string): never {
  // one line, whatever the reference holds (the reason quotes parts of it)
  const line = (t: string) => t.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
  throw new StrataError('INVALID_REFERENCE', `invalid reference "${line(s)}": ${line(why)}`);
}

/**
 * Parse a reference as `docker` does (ParseNormalizedNamed). The tag is left undefined when
 * absent; use `withDefaultTag` where Docker implies `:latest`.
 */
export function parseReference(input: string): Reference {
  const s = input.trim();
  if (s === '') bad(input, 'empty');
  if (ID_RE.test(s)) bad(input, 'a 64-hex string is an image ID, not a repository name');
  let rest = s;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) bad(input, `bad digest "${d}"`);
    digest = d;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG_RE.test(tag)) bad(input, `bad tag "${tag}"`);
  }
  if (rest === '') bad(input, 'empty name');
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first) {
      domain = first;
      path = rest.slice(slash + 1);
    }
  }
  if (!DOMAIN_RE.test(domain)) bad(input, `bad registry host "${domain}"`);
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  if (path.toLowerCase() !== path) bad(input, 'repository name must be lowercase');
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`;
  for (const c of path.split('/')) if (!COMPONENT_RE.test(c)) bad(input, `bad path component "${c}"`);
  if (domain.length + 1 + path.length > 255) bad(input, 'name longer than 255 characters');
  return { domain, path, tag, digest };
}

export function withDefaultTag(r: Reference): Reference {
  return r.tag === undefined && r.digest === undefined ? { ...r, tag: DEFAULT_TAG } : r;
}

/** `docker.io/library/busybox` */
export function repositoryName(r: Reference): string {
  return `${r.domain}/${r.path}`;
}

/** Short form Docker prints: `busybox`, `foo/bar`, `localhost:5000/x`. */
export function familiarRepository(r: Reference): string {
  if (r.domain === DEFAULT_DOMAIN) return r.path.startsWith('library/') ? r.path.slice('library/'.length) : r.path;
  return `${r.domain}/${r.path}`;
}

/** Fully normalised string: `docker.io/library/busybox:latest[@sha256:…]`. */
export function formatReference(r: Reference): string {
  return `${repositoryName(r)}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** Familiar string: `busybox:latest`. */
export function familiarReference(r: Reference): string {
  return `${familiarRepository(r)}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** Normalise a user string to the canonical tagged form (`busybox` → `docker.io/library/busybox:latest`). */
export function normalizeReference(input: string): string {
  return formatReference(withDefaultTag(parseReference(input)));
}
