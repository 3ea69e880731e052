import { StrataError } from '@strata/errors';
import { familiarReference, parseReference, shortId, type Digest } from '@strata/oci';
import { readIndex, refName, setTags, writeIndex } from './index-file';
import { collectGarbage } from './gc';
import type { ImagesInUse } from './side-state';
import { normalizeTag, resolve, type Store, type StoredImage } from './store';

/** One line of `image rm`/`prune` output, as Docker prints it. */
export type RemoveEvent = { untagged: string } | { deleted: Digest };

export interface RemoveResult {
  events: RemoveEvent[];
  /** One message per ref that could not be removed (the others still were). */
  errors: Array<{ ref: string; error: StrataError }>;
  reclaimedBytes: number;
}

const familiar = (ref: string) => familiarReference(parseReference(ref));

function repoOf(ref: string): string {
  const r = parseReference(ref);
  return `${r.domain}/${r.path}`;
}

/** Is `ref` a tag (as opposed to an ID, ID prefix or digest reference) naming `img`? */
function tagOf(ref: string, img: StoredImage): string | undefined {
  try {
    const r = parseReference(ref);
    if (r.digest) return undefined;
    const t = normalizeTag(ref);
    return img.tags.includes(t) ? t : undefined;
  } catch {
    return undefined;
  }
}

/** Remove a tag straight from index.json (its image unreadable); the manifest goes with its last tag. */
async function removeBrokenTag(store: Store, ref: string): Promise<string> {
  let tag: string;
  try {
    tag = normalizeTag(ref);
  } catch {
    throw new StrataError('STORE_CORRUPT', `the store is damaged; only tags can be removed until it is repaired, not "${ref}"`, { hint: 'run `strata store check`' });
  }
  const index = await readIndex(store.root);
  const entry = index.manifests.find((d) => refName(d) === tag);
  if (!entry) throw new StrataError('IMAGE_NOT_FOUND', `no such image: ${ref}`);
  const others = index.manifests.some((d) => d.digest === entry.digest && refName(d) !== undefined && refName(d) !== tag);
  await writeIndex(store.root, setTags(index, { remove: [tag], drop: others ? [] : [entry.digest] }));
  return tag;
}

/**
 * `image rm`: untag; delete the image (its index entries) only when no tag remains; then GC its
 * now-unreferenced blobs. Images a container uses are refused unless `force` (which untags but
 * keeps the image, dangling, for the container).
 */
export async function removeImages(store: Store, refs: string[], opts: { force?: boolean; usedBy?: ImagesInUse } = {}): Promise<RemoveResult> {
  const events: RemoveEvent[] = [];
  const errors: RemoveResult['errors'] = [];
  let changed = false;
  await store.withLock(async () => {
    const used: ImagesInUse = opts.usedBy ?? new Map();
    for (const ref of refs) {
      try {
        let all: StoredImage[];
        try {
          all = await store.images();
        } catch (err) {
          if (!(err instanceof StrataError && err.code === 'STORE_CORRUPT')) throw err;
          // A damaged store must still let people remove what is damaged: untag by name alone.
          const t = await removeBrokenTag(store, ref);
          events.push({ untagged: familiar(t) });
          changed = true;
          continue;
        }
        const img = resolve(all, ref);
        if (!img) throw new StrataError('IMAGE_NOT_FOUND', `no such image: ${ref}`);
        const sameId = all.filter((i) => i.id === img.id);
        const tags = [...new Set(sameId.flatMap((i) => i.tags))];
        const containers = used.get(img.id) ?? [];
        const tag = tagOf(ref, img);
        let untag: string[];
        let drop: boolean;
        if (tag !== undefined && tags.length > 1) {
          untag = [tag];
          drop = false;
        } else {
          if (containers.length && !opts.force) {
            throw new StrataError(
              'IN_USE',
              tag !== undefined
                ? `conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(containers[0])} is using its referenced image ${shortId(img.id)}`
                : `conflict: unable to delete ${shortId(img.id)} (must be forced) - image is being used by container ${shortId(containers[0])}`,
            );
          }
          if (tag === undefined && new Set(tags.map(repoOf)).size > 1 && !opts.force) {
            throw new StrataError('CONFLICT', `conflict: unable to delete ${shortId(img.id)} (must be forced) - image is referenced in multiple repositories`);
          }
          untag = tags;
          drop = containers.length === 0;
        }
        const index = await readIndex(store.root);
        await writeIndex(store.root, setTags(index, { remove: untag, drop: drop ? sameId.map((i) => i.manifestDigest) : [] }));
        await store.checkpoint('index-written');
        changed = true;
        for (const t of untag) events.push({ untagged: familiar(t) });
        if (drop) events.push({ deleted: img.id });
      } catch (err) {
        if (!(err instanceof StrataError)) throw err;
        errors.push({ ref, error: err });
      }
    }
  });
  const reclaimedBytes = changed ? (await collectGarbage(store)).bytes : 0;
  return { events, errors, reclaimedBytes };
}
