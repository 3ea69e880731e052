import { parseImageConfig, repositoryName, type Reference } from '@strata/oci';
import type { Registries } from './registry';
import { DEFAULT_PLATFORM, readSmallBlob, resolveImage, referenceOf } from './resolve';
import type { PlatformSpec } from './platform';
import { goTime } from './oci-convert';

/** `skopeo inspect docker://…`'s object, field for field. */
export interface RemoteInspect {
  Name: string;
  Digest: string;
  RepoTags: string[];
  Created?: string;
  DockerVersion: string;
  Labels: Record<string, string> | null;
  Architecture: string;
  Variant?: string;
  Os: string;
  Layers: string[];
  LayersData: Array<{ MIMEType: string; Digest: string; Size: number; Annotations: Record<string, string> | null }>;
  Env: string[] | null;
}

export interface InspectOptions {
  registries: Registries;
  reference: Reference;
  platform?: PlatformSpec;
  /** Skip listing the repository's tags (skopeo's --no-tags). */
  noTags?: boolean;
}

/** The manifest bytes exactly as the registry serves them (an index stays an index). */
export async function rawManifest(registries: Registries, reference: Reference): Promise<Buffer> {
  const repo = registries.repository(reference.domain, reference.path);
  return (await repo.manifest(referenceOf(reference))).bytes;
}

/** The digest a reference resolves to (an index's for multi-platform images), as `skopeo inspect --format {{.Digest}}`. */
export async function remoteDigest(registries: Registries, reference: Reference): Promise<string> {
  if (reference.digest) return reference.digest;
  const repo = registries.repository(reference.domain, reference.path);
  const head = await repo.headManifest(referenceOf(reference));
  return head?.digest ?? (await repo.manifest(referenceOf(reference))).digest;
}

/** The config blob's bytes of the platform's image. */
export async function remoteConfig(opts: InspectOptions): Promise<Buffer> {
  const repo = opts.registries.repository(opts.reference.domain, opts.reference.path);
  const r = await resolveImage(repo, opts.reference, opts.platform ?? DEFAULT_PLATFORM);
  return readSmallBlob(repo, r.parsed.config);
}

/** Inspect an image in a registry without pulling a layer: manifest, config, tags. */
export async function inspectRemote(opts: InspectOptions): Promise<RemoteInspect> {
  const ref = opts.reference;
  const repo = opts.registries.repository(ref.domain, ref.path);
  const [r, tags] = await Promise.all([resolveImage(repo, ref, opts.platform ?? DEFAULT_PLATFORM), opts.noTags ? Promise.resolve([]) : repo.tags()]);
  const config = parseImageConfig(await readSmallBlob(repo, r.parsed.config));
  const rc = config.config ?? {};
  return {
    Name: repositoryName(ref),
    Digest: r.top.digest,
    RepoTags: tags,
    // skopeo prints the time as Go formats it (no trailing zeros in the fraction)
    ...(config.created !== undefined ? { Created: goTime(config.created) ?? config.created } : {}),
    DockerVersion: typeof config.docker_version === 'string' ? config.docker_version : '',
    Labels: rc.Labels ?? null,
    Architecture: config.architecture,
    ...(config.variant ? { Variant: config.variant } : {}),
    Os: config.os,
    Layers: r.parsed.layers.map((l) => l.digest),
    LayersData: r.parsed.layers.map((l) => ({ MIMEType: l.mediaType, Digest: l.digest, Size: l.size, Annotations: l.annotations ?? null })),
    Env: rc.Env ?? null,
  };
}

export async function listTags(registries: Registries, reference: Reference): Promise<string[]> {
  return registries.repository(reference.domain, reference.path).tags();
}
