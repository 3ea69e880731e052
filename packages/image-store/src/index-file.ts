import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StrataError } from '@strata/errors';
import { atomicWrite } from '@strata/cas';
import { ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, MediaType, parseIndex, type Descriptor, type Digest, type Index } from '@strata/oci';

/** index.json: one descriptor per (manifest, tag); an untagged kept image has one without a name. */
export async function readIndex(root: string): Promise<Index> {
  const path = join(root, 'index.json');
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyIndex();
    throw err;
  }
  try {
    return parseIndex(raw);
  } catch (err) {
    throw new StrataError('STORE_CORRUPT', `${path}: ${(err as Error).message}`, { cause: err });
  }
}

export function emptyIndex(): Index {
  return { schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [] };
}

/** Caller holds the store lock. Temp file + fsync + rename: readers see old or new, never a mix. */
export async function writeIndex(root: string, index: Index): Promise<void> {
  await atomicWrite(join(root, 'index.json'), `${JSON.stringify(index, null, 2)}\n`, { tmpDir: join(root, 'tmp') });
}

/** The full normalised reference a descriptor is tagged with, if any. */
export function refName(d: Descriptor): string | undefined {
  return d.annotations?.[ANNOTATION_IMAGE_NAME] ?? d.annotations?.[ANNOTATION_REF_NAME];
}

/** strata's own derived facts about an image, kept on its index.json descriptors (e.g. its Docker size). */
export const STRATA_ANNOTATION_PREFIX = 'dev.strata.';
export const ANNOTATION_SIZE = 'dev.strata.image.size';
/** When a tag was last added to the image (Docker's Metadata.LastTagTime). */
export const ANNOTATION_LAST_TAG_TIME = 'dev.strata.image.last-tag-time';

export function taggedDescriptor(manifest: Descriptor, ref: string): Descriptor {
  const base = bareDescriptor(manifest);
  return { ...base, annotations: { ...base.annotations, [ANNOTATION_IMAGE_NAME]: ref, [ANNOTATION_REF_NAME]: ref } };
}

/** The descriptor without its name (the form a dangling image is kept in); strata's own annotations stay. */
export function bareDescriptor(d: Descriptor): Descriptor {
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.platform) out.platform = d.platform;
  const own = Object.entries(d.annotations ?? {}).filter(([k]) => k.startsWith(STRATA_ANNOTATION_PREFIX));
  if (own.length) out.annotations = Object.fromEntries(own);
  return out;
}

/**
 * Index edits as pure functions: give each manifest the set of tags it should have; manifests
 * that end up with none keep one bare descriptor (dangling) unless `drop` lists them.
 */
export function setTags(index: Index, edit: { add?: Array<{ manifest: Descriptor; ref: string }>; ensure?: Descriptor[]; remove?: string[]; drop?: Digest[] }): Index {
  const removed = new Set([...(edit.remove ?? []), ...(edit.add ?? []).map((a) => a.ref)]);
  const drop = new Set(edit.drop ?? []);
  const order: Digest[] = [];
  const byManifest = new Map<Digest, { base: Descriptor; tags: string[] }>();
  const slot = (d: Descriptor) => {
    let s = byManifest.get(d.digest);
    if (!s) {
      s = { base: bareDescriptor(d), tags: [] };
      byManifest.set(d.digest, s);
      order.push(d.digest);
    }
    return s;
  };
  for (const d of index.manifests) {
    const s = slot(d);
    const name = refName(d);
    if (name !== undefined && !removed.has(name) && !s.tags.includes(name)) s.tags.push(name);
  }
  for (const d of edit.ensure ?? []) {
    // Adds strata's derived annotations (size) to an entry written before they existed.
    const s = slot(d);
    const own = bareDescriptor(d).annotations;
    if (own) s.base = { ...s.base, annotations: { ...s.base.annotations, ...own } };
  }
  const now = new Date().toISOString();
  for (const a of edit.add ?? []) {
    const s = slot(a.manifest);
    if (!s.tags.includes(a.ref)) s.tags.push(a.ref);
    s.base = { ...s.base, annotations: { ...s.base.annotations, [ANNOTATION_LAST_TAG_TIME]: now } };
  }
  const manifests: Descriptor[] = [];
  for (const digest of order) {
    if (drop.has(digest)) continue;
    const s = byManifest.get(digest)!;
    if (s.tags.length === 0) manifests.push(s.base);
    for (const t of s.tags) manifests.push(taggedDescriptor(s.base, t));
  }
  return { ...index, schemaVersion: 2, mediaType: index.mediaType ?? MediaType.OCI_INDEX, manifests };
}
