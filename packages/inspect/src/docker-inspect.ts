// `docker image inspect` output for an image, from its config blob and what the store knows
// (tags, sizes). Pure: no I/O. Field order, nulls and defaults are Docker 20.10's.
import type { Digest } from '@strata/oci';
import { CONTAINER_CONFIG, goStructJson, IMAGE_INSPECT } from './docker-types';
import { parseGoTime, type GoValue } from './go-value';

export interface InspectInput {
  /** Image ID (config digest). */
  id: Digest;
  /** The image config, parsed from its blob (all keys kept). */
  config: Record<string, unknown>;
  /** Familiar tags (`busybox:latest`), as Docker lists them. */
  repoTags?: string[];
  /** `name@sha256:…` of registry manifests; empty for images that only exist locally. */
  repoDigests?: string[];
  /** Sum of the layers' sizes as Docker counts them (see layerUsage). */
  size: number;
  /** When a tag last moved to this image (RFC 3339). */
  lastTagTime?: string;
  /** What strata reports as the storage driver (engine-specific; Docker: overlay2 paths). */
  graphDriver?: { Name: string; Data: Record<string, string> | null };
  parent?: string;
}

/** The inspect object, keys in Docker's order (a plain JSON value). */
export type DockerImageInspect = Record<string, unknown>;

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Go's time.Format(RFC3339Nano) of a parsed RFC 3339 string: fraction without trailing zeros, UTC as Z. */
export function rfc3339Nano(s: unknown): string {
  const p = typeof s === 'string' ? parseGoTime(s) : undefined;
  if (!p) return ZERO_TIME;
  const frac = p.frac.slice(0, 9).replace(/0+$/, '');
  const zone = p.offset === 'Z' || p.offset === '+00:00' || p.offset === '-00:00' ? 'Z' : p.offset;
  return `${p.date}T${p.time}${frac ? `.${frac}` : ''}${zone}`;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function lastHistoryComment(c: Record<string, unknown>): string {
  const h = Array.isArray(c.history) ? c.history : [];
  return h.length ? str((h[h.length - 1] as Record<string, unknown>)?.comment) : '';
}

export function dockerInspect(input: InspectInput): DockerImageInspect {
  const c = input.config;
  const rootfs = (c.rootfs ?? {}) as { type?: string; diff_ids?: string[]; base_layer?: string };
  const RootFS: Record<string, unknown> = { Type: str(rootfs.type) };
  if (rootfs.diff_ids?.length) RootFS.Layers = [...rootfs.diff_ids];
  if (rootfs.base_layer) RootFS.BaseLayer = rootfs.base_layer;
  const out: DockerImageInspect = {
    Id: input.id,
    RepoTags: [...(input.repoTags ?? [])],
    RepoDigests: [...(input.repoDigests ?? [])],
    Parent: input.parent ?? '',
    // Docker falls back to the newest history entry's comment (BuildKit sets no top-level one).
    Comment: str(c.comment) || lastHistoryComment(c),
    Created: rfc3339Nano(c.created),
    Container: str(c.container),
    ContainerConfig: goStructJson(CONTAINER_CONFIG, c.container_config),
    DockerVersion: str(c.docker_version),
    Author: str(c.author),
    Config: c.config && typeof c.config === 'object' ? goStructJson(CONTAINER_CONFIG, c.config) : null,
    Architecture: str(c.architecture),
  };
  if (str(c.variant)) out.Variant = str(c.variant);
  out.Os = str(c.os);
  if (str(c['os.version'])) out.OsVersion = str(c['os.version']);
  out.Size = input.size;
  out.VirtualSize = input.size;
  out.GraphDriver = input.graphDriver ?? { Data: null, Name: 'strata' };
  out.RootFS = RootFS;
  out.Metadata = { LastTagTime: input.lastTagTime ? rfc3339Nano(input.lastTagTime) : ZERO_TIME };
  return out;
}

/** The inspect object typed for `--format` templates (so it prints the way Docker's Go types do). */
export function inspectTemplateValue(inspect: DockerImageInspect): GoValue {
  return { t: IMAGE_INSPECT, v: inspect };
}
