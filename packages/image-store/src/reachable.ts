import type { BlobStore } from '@strata/cas';
import { isIndexMediaType, isManifestMediaType, type Descriptor, type Digest, type Index } from '@strata/oci';

const SMALL = 4 * 1024 * 1024;

/** Children of a manifest or index blob (config, layers, subject, manifests); [] when unreadable. */
export async function childrenOf(blobs: BlobStore, digest: Digest, mediaType?: string): Promise<Descriptor[]> {
  const size = await blobs.size(digest);
  if (size === undefined || size > SMALL) return [];
  if (mediaType !== undefined && !isIndexMediaType(mediaType) && !isManifestMediaType(mediaType)) return [];
  let doc: { config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[]; subject?: Descriptor };
  try {
    doc = JSON.parse((await blobs.read(digest)).toString('utf8'));
  } catch {
    return [];
  }
  if (!doc || typeof doc !== 'object') return [];
  const out: Descriptor[] = [];
  const push = (d: unknown) => {
    const x = d as Descriptor;
    if (x && typeof x === 'object' && typeof x.digest === 'string') out.push(x);
  };
  if (Array.isArray(doc.manifests)) doc.manifests.forEach(push);
  if (doc.config) push(doc.config);
  if (Array.isArray(doc.layers)) doc.layers.forEach(push);
  if (doc.subject) push(doc.subject);
  return out;
}

/**
 * Every digest reachable from `index` and from `extraRoots` (build-cache roots). Manifests and
 * indexes are followed; a root that is itself a manifest (cache records may name one) is followed too.
 */
export async function reachableDigests(blobs: BlobStore, index: Index, extraRoots: Iterable<Digest> = []): Promise<Set<Digest>> {
  const seen = new Set<Digest>();
  const queue: Array<{ digest: Digest; mediaType?: string }> = [];
  for (const d of index.manifests) queue.push({ digest: d.digest, mediaType: d.mediaType });
  for (const d of extraRoots) queue.push({ digest: d });
  while (queue.length) {
    const { digest, mediaType } = queue.pop()!;
    if (seen.has(digest)) continue;
    seen.add(digest);
    const follow = mediaType === undefined || isIndexMediaType(mediaType) || isManifestMediaType(mediaType);
    if (!follow) continue;
    for (const c of await childrenOf(blobs, digest, mediaType)) queue.push({ digest: c.digest, mediaType: c.mediaType });
  }
  return seen;
}
