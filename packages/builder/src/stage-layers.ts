import { chainIds, MediaType, type Digest } from '@strata/oci';
import { layerFromBlob, type Layer } from '@strata/layer';
import { unionView, type UnionView } from '@strata/unionfs';
import { tarBuffers, writeTar, type TarBuffers, type TarWriteEntry, type WriteTarStats } from '@strata/tar';
import { stepKey, type CacheRecord } from '@strata/layer-cache';
import { COMMENT, type BuildCtx, type StageState } from './build-state';
import { lowerFs } from './lower-fs';

// A stage's layers and the build cache: the merged view of what a stage has so far, adding a
// step's layer or metadata entry, and looking a step up in the cache before it is run.

export async function viewOf(ctx: BuildCtx, st: StageState): Promise<UnionView> {
  if (st.view) return st.view;
  const sources = [];
  for (const l of st.layers) {
    const digest = await l.digest();
    const mt = await l.mediaType();
    const uncompressed = mt === MediaType.OCI_LAYER || mt === MediaType.DOCKER_LAYER;
    sources.push(uncompressed && (await ctx.store.blobs.has(digest)) ? { path: ctx.store.blobs.path(digest), diffId: await l.diffId() } : { open: () => l.uncompressed(), diffId: await l.diffId() });
  }
  st.view = await unionView(sources);
  return st.view;
}

async function readText(view: UnionView, path: string): Promise<string | undefined> {
  const e = view.stat(path);
  if (!e || (e.type !== 'file' && e.type !== 'hardlink')) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of await view.read(path)) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

export async function passwdFiles(view: UnionView): Promise<{ passwd?: string; group?: string }> {
  const fs = lowerFs(view);
  return { passwd: await readText(view, fs.resolve('etc/passwd').realPath), group: await readText(view, fs.resolve('etc/group').realPath) };
}

function layerOf(ctx: BuildCtx, l: NonNullable<CacheRecord['layer']>): Layer {
  const open = () => ctx.store.blobs.open(l.digest);
  return layerFromBlob({ mediaType: MediaType.OCI_LAYER, digest: l.digest, size: l.size, diffId: l.digest, open, openUncompressed: open, contentSize: l.contentSize });
}

export function addLayer(ctx: BuildCtx, st: StageState, rec: CacheRecord, createdBy: string): void {
  const l = rec.layer!;
  st.layers.push(layerOf(ctx, l));
  st.diffIds.push(l.digest);
  st.chainId = chainIds(st.diffIds).at(-1)!;
  st.view = undefined;
  st.metaChain = undefined;
  st.history.push({ created: rec.created, created_by: createdBy, comment: COMMENT });
}

export function addMeta(st: StageState, createdBy: string): void {
  st.history.push({ created: undefined, created_by: createdBy, comment: COMMENT, empty_layer: true });
}

/** A metadata step is "cached" when the same step followed the same parent before (a tiny record). */
export async function metaCached(ctx: BuildCtx, st: StageState, createdBy: string): Promise<boolean> {
  const key = stepKey(`${st.chainId}|${st.metaChain ?? ''}`, { op: 'meta', createdBy, stage: st.index });
  st.metaChain = key;
  if (!ctx.opts.noCache && (await ctx.cache.get(key))) return true;
  await ctx.cache.put({ key, created: new Date().toISOString(), description: createdBy });
  return false;
}

/**
 * A layer step through the cache: the key is looked up first (a hit never reads sources again);
 * on a miss the tar `produce` writes with `buffers` goes into the blob store, which gives each
 * chunk back once written (a layer reuses a few MiB of buffers), and the record is kept, with the
 * regular-file bytes the writer counted into `stats` (Docker's size of the layer).
 */
export async function cachedLayer(
  ctx: BuildCtx,
  key: string,
  description: string,
  produce: (buffers: TarBuffers, stats: WriteTarStats) => Promise<AsyncIterable<Uint8Array>>,
): Promise<{ rec: CacheRecord; cached: boolean }> {
  if (!ctx.opts.noCache) {
    const hit = await ctx.cache.get(key);
    if (hit?.layer) return { rec: hit, cached: true };
  }
  const buffers = tarBuffers();
  const stats: WriteTarStats = { spliced: 0, read: 0 };
  const put = await ctx.store.blobs.put(await produce(buffers, stats), { release: (c) => buffers.give(c) });
  const rec: CacheRecord = { key, created: new Date().toISOString(), layer: writtenLayer(put, stats), description };
  await ctx.cache.put(rec);
  await ctx.store.checkpoint('cache-recorded');
  return { rec, cached: false };
}

/** A cache record's layer, as put into the store with the stats its `writeTar` filled in. */
export function writtenLayer(put: { digest: Digest; size: number }, stats: WriteTarStats): NonNullable<CacheRecord['layer']> {
  return { digest: put.digest, size: put.size, mediaType: MediaType.OCI_LAYER, ...(stats.fileBytes !== undefined ? { contentSize: stats.fileBytes } : {}) };
}

export function tarOf(ctx: BuildCtx, entries: Iterable<TarWriteEntry>, buffers: TarBuffers, stats?: WriteTarStats): AsyncIterable<Uint8Array> {
  return writeTar(entries, { buffers, stats, ...(ctx.epoch !== undefined ? { clampMtime: ctx.epoch } : {}) });
}
