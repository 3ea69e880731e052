import { StrataError } from '@strata/errors';
import {
  ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, isIndexMediaType, normalizeReference, parseIndex, parseManifest, sha256,
  type Descriptor, type Manifest,
} from '@strata/oci';
import type { Members } from './archive-members';
import type { Staging } from './staging';
import { checkLayerCount, jsonMember, layerMember, parseConfigMember, type LoadedImage } from './verify';

/** The platform to pick from multi-platform indexes (strata runs linux/amd64 images by default). */
export interface PlatformWanted {
  os: string;
  architecture: string;
  variant?: string;
}

export const DEFAULT_PLATFORM: PlatformWanted = { os: 'linux', architecture: 'amd64' };

/** `linux/arm64/v8` → { os, architecture, variant }. */
export function parsePlatform(s: string): PlatformWanted {
  const [os, architecture, variant] = s.split('/');
  if (!os || !architecture || s.split('/').length > 3) throw new StrataError('USAGE', `invalid platform "${s}" (want os/arch[/variant], e.g. linux/arm64)`);
  return { os, architecture, ...(variant ? { variant } : {}) };
}
const CONFIG_TYPES = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);

function blobPath(d: Descriptor): string {
  const [alg, hex] = d.digest.split(':');
  return `blobs/${alg}/${hex}`;
}

/** The reference an index entry names: containerd's full name, else an OCI ref.name that is a full reference. */
export function descriptorTag(d: Descriptor): string | undefined {
  const full = d.annotations?.[ANNOTATION_IMAGE_NAME];
  const ref = d.annotations?.[ANNOTATION_REF_NAME];
  for (const candidate of [full, ref]) {
    // A bare tag ("latest") names no repository, so it cannot become a tag here.
    if (!candidate || !/[/:@]/.test(candidate)) continue;
    try {
      return normalizeReference(candidate);
    } catch {
      continue;
    }
  }
  return undefined;
}

function isAttestation(d: Descriptor): boolean {
  return d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' || d.platform?.os === 'unknown';
}

/** From an index's entries, the images to load: linux/amd64 where the index is multi-platform. */
function select(entries: Descriptor[], what: string, want: PlatformWanted): Descriptor[] {
  const usable = entries.filter((d) => !isAttestation(d));
  const withPlatform = usable.filter((d) => d.platform);
  const platforms = new Set(withPlatform.map((d) => `${d.platform!.os}/${d.platform!.architecture}`));
  if (platforms.size <= 1) return usable;
  const match = withPlatform.find(
    (d) => d.platform!.os === want.os && d.platform!.architecture === want.architecture && (!want.variant || d.platform!.variant === want.variant),
  );
  const name = [want.os, want.architecture, want.variant].filter(Boolean).join('/');
  if (!match) throw new StrataError('UNSUPPORTED', `${what}: no ${name} image among ${[...platforms].join(', ')}`, { hint: 'pick one with --platform' });
  return [match, ...usable.filter((d) => !d.platform)];
}

/** An OCI image layout (tar or directory): index.json → (nested indexes →) manifests → config + layers. */
export async function readOciLayout(members: Members, staging: Staging, want: PlatformWanted = DEFAULT_PLATFORM): Promise<LoadedImage[]> {
  const what = members.what;
  const byManifest = new Map<string, LoadedImage>();
  const parsed = (bytes: Buffer, name: string, parse: (b: Buffer) => unknown) => {
    try {
      return parse(bytes);
    } catch (err) {
      if (err instanceof StrataError) throw new StrataError(err.code, `${what}: ${name}: ${err.message}`, { cause: err });
      throw new StrataError('INVALID_MANIFEST', `${what}: ${name} is not JSON (${(err as Error).message.replace(/\s+/g, ' ')})`, { cause: err });
    }
  };

  const visit = async (d: Descriptor, tag: string | undefined, depth: number): Promise<void> => {
    if (depth > 8) throw new StrataError('INVALID_ARCHIVE', `${what}: indexes nested too deeply`);
    const path = blobPath(d);
    const bytes = jsonMember(members, path, 'index.json', d);
    // Trust the content over the descriptor: some writers label indexes loosely.
    const doc = parsed(bytes, path, (b) => JSON.parse(b.toString('utf8'))) as { manifests?: unknown };
    if (isIndexMediaType(d.mediaType) || Array.isArray(doc.manifests)) {
      const index = parsed(bytes, path, parseIndex) as ReturnType<typeof parseIndex>;
      for (const child of select(index.manifests, what, want)) await visit(child, tag ?? descriptorTag(child), depth + 1);
      return;
    }
    const manifest = parsed(bytes, path, parseManifest) as Manifest;
    // Artifacts (signatures, SBOMs) travel in layouts too; they are not images.
    if (!CONFIG_TYPES.has(manifest.config.mediaType)) return;
    const known = byManifest.get(d.digest);
    if (known) {
      if (tag && !known.tags.includes(tag)) known.tags.push(tag);
      return;
    }
    const rawConfig = jsonMember(members, blobPath(manifest.config), path, manifest.config);
    const configDigest = sha256(rawConfig);
    const config = parseConfigMember(rawConfig, members, blobPath(manifest.config));
    checkLayerCount(config, configDigest, manifest.layers.length, members, `manifest ${d.digest}`);
    const layers = [];
    for (const [i, l] of manifest.layers.entries()) {
      layers.push(await layerMember(members, staging, blobPath(l), `manifest ${d.digest}`, config.rootfs.diff_ids[i], l));
    }
    byManifest.set(d.digest, { rawConfig, config, configDigest, layers, tags: tag ? [tag] : [], annotations: manifest.annotations });
  };

  const index = parsed(jsonMember(members, 'index.json', 'the archive'), 'index.json', parseIndex) as ReturnType<typeof parseIndex>;
  for (const d of select(index.manifests, what, want)) await visit(d, descriptorTag(d), 0);
  return [...byManifest.values()];
}
