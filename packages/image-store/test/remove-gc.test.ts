import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isStrataError } from '@strata/errors';
import { cleanupTempDirs, tempDir } from '@strata/testing';
import { checkStore, collectGarbage, diskUsage, openDistribution, openStore, pruneImages, removeImages } from '../src/index';
import { makeImage } from './helpers';

afterAll(cleanupTempDirs);

async function blobCount(root: string) {
  return (await fsp.readdir(join(root, 'blobs', 'sha256'))).length;
}

describe('removeImages', () => {
  it('untags, deletes only when no tag remains, and reclaims blobs not shared', async () => {
    const root = tempDir();
    const store = await openStore(root);
    const a = await store.putImage(await makeImage('a', { layers: 2 }), { tags: ['a:1', 'a:2'] });
    const b = await store.putImage(await makeImage('b'), { tags: ['b:1'] });
    const before = await blobCount(root);
    let r = await removeImages(store, ['a:1']);
    expect(r).toMatchObject({ events: [{ untagged: 'a:1' }], errors: [], reclaimedBytes: 0 });
    expect(await blobCount(root)).toBe(before);
    r = await removeImages(store, ['a:2']);
    expect(r.events).toEqual([{ untagged: 'a:2' }, { deleted: a.id }]);
    expect(r.reclaimedBytes).toBeGreaterThan(a.size);
    expect(await blobCount(root)).toBe(before - 4); // manifest, config, 2 layers
    expect((await store.image('b:1')).id).toBe(b.id);
    expect((await checkStore(store)).problems).toEqual([]);
  });

  it('keeps blobs another image shares', async () => {
    const root = tempDir();
    const store = await openStore(root);
    const base = await makeImage('shared');
    const [layer] = await base.layers();
    const { imageFromParts } = await import('@strata/image');
    const other = imageFromParts({ rawConfig: Buffer.from(JSON.stringify({ ...(await base.config()), author: 'x' })), layers: [layer] });
    await store.putImage(base, { tags: ['one'] });
    await store.putImage(other, { tags: ['two'] });
    await removeImages(store, ['one']);
    expect(await store.blobs.has(await layer.diffId())).toBe(true);
    expect((await checkStore(store)).problems).toEqual([]);
  });

  it('refuses by ID across repositories and images used by containers unless forced', async () => {
    const root = tempDir();
    const store = await openStore(root);
    const a = await store.putImage(await makeImage('a'), { tags: ['x:1', 'y:1'] });
    let r = await removeImages(store, [a.id]);
    expect(r.events).toEqual([]);
    expect(r.errors[0].error.message).toMatch(/referenced in multiple repositories/);
    const c = await store.putImage(await makeImage('c'), { tags: ['c:1'] });
    const usedBy = new Map([[c.id, ['abc123']]]);
    const snapshot = await fsp.readFile(join(root, 'index.json'));
    r = await removeImages(store, ['c:1', 'nosuch'], { usedBy });
    expect(r.errors.map((e) => e.error.code)).toEqual(['IN_USE', 'IMAGE_NOT_FOUND']);
    expect((await fsp.readFile(join(root, 'index.json'))).equals(snapshot)).toBe(true);
    r = await removeImages(store, ['c:1'], { force: true, usedBy });
    expect(r.events).toEqual([{ untagged: 'c:1' }]);
    expect((await store.image(c.id)).tags).toEqual([]); // kept, dangling, for the container
    r = await removeImages(store, [a.id], { force: true });
    expect(r.events).toEqual([{ untagged: 'x:1' }, { untagged: 'y:1' }, { deleted: a.id }]);
  });
});

describe('a damaged store', () => {
  it('reports STORE_CORRUPT on reads, and still lets the damaged tag be removed', async () => {
    const root = tempDir();
    const store = await openStore(root);
    const ok = await store.putImage(await makeImage('ok'), { tags: ['ok:1'] });
    const broken = await store.putImage(await makeImage('broken'), { tags: ['broken:1'] });
    await fsp.rm(store.blobs.path(broken.manifestDigest));
    const fresh = await openStore(root);
    await expect(fresh.images()).rejects.toSatisfy((e) => isStrataError(e, 'STORE_CORRUPT'));
    const r = await removeImages(fresh, ['broken:1']);
    expect(r.events).toEqual([{ untagged: 'broken:1' }]);
    expect((await fresh.images()).map((i) => i.id)).toEqual([ok.id]);
    expect((await checkStore(fresh)).problems).toEqual([]);
  });
});

describe('pruneImages', () => {
  it('prunes dangling by default, all unused with all, honours filters and dry-run', async () => {
    const root = tempDir();
    const store = await openStore(root);
    const old = await store.putImage(await makeImage('old', { created: '2000-01-01T00:00:00Z', labels: { keep: 'no' } }), { tags: ['app:1'] });
    await store.putImage(await makeImage('new', { labels: { keep: 'yes' } }), { tags: ['app:1'] }); // old is now dangling
    const tagged = await store.putImage(await makeImage('t', { created: '2001-01-01T00:00:00Z' }), { tags: ['t:1'] });
    let r = await pruneImages(store, { dryRun: true });
    expect(r.images.map((i) => i.id)).toEqual([old.id]);
    expect(r.reclaimedBytes).toBeGreaterThan(0);
    expect(await store.image(old.id)).toBeTruthy();
    r = await pruneImages(store, { filters: ['label=keep=yes'] });
    expect(r.images).toEqual([]);
    r = await pruneImages(store, {});
    expect(r.events).toEqual([{ deleted: old.id }]);
    expect(r.reclaimedBytes).toBeGreaterThan(0);
    await expect(store.image(old.id)).rejects.toSatisfy((e) => isStrataError(e, 'IMAGE_NOT_FOUND'));
    // until=DURATION counts back from `now`: a year after t was made, t is older than 24h but not than 400 days
    const yearOn = new Date('2002-01-01T00:00:00Z');
    r = await pruneImages(store, { all: true, dryRun: true, filters: ['until=9600h'], now: yearOn });
    expect(r.images).toEqual([]);
    r = await pruneImages(store, { all: true, dryRun: true, filters: ['until=24h'], now: yearOn });
    expect(r.images.map((i) => i.id)).toEqual([tagged.id]);
    r = await pruneImages(store, { all: true, filters: ['until=2002-01-01T00:00:00Z'] });
    expect(r.events).toEqual([{ untagged: 't:1' }, { deleted: tagged.id }]);
    r = await pruneImages(store, { all: true, filters: ['label!=keep=yes'] });
    expect(r.images).toEqual([]);
    r = await pruneImages(store, { all: true });
    expect(r.images).toHaveLength(1);
    expect(await blobCount(root)).toBe(0);
    // dangling= is a prune filter of Docker's API (dangling=false is --all); other values are errors.
    await expect(pruneImages(store, { filters: ['dangling=true'] })).resolves.toMatchObject({ images: [] });
    await expect(pruneImages(store, { filters: ['dangling=maybe'] })).rejects.toSatisfy((e) => isStrataError(e, 'USAGE'));
  });

  it('keeps images a container uses, dangling or not, until the container is gone', async () => {
    const root = tempDir();
    const store = await openStore(root);
    const used = await store.putImage(await makeImage('used'), { tags: ['u:1'] });
    const unused = await store.putImage(await makeImage('used2'), { tags: ['u:1'] }); // `used` is now dangling
    const tagged = await store.putImage(await makeImage('tagged'), { tags: ['t:1'] });
    const usedBy = new Map([[used.id, ['c1']], [tagged.id, ['c2']]]);
    let r = await pruneImages(store, { usedBy });
    expect(r.images).toEqual([]);
    r = await pruneImages(store, { all: true, usedBy });
    expect(r.images.map((i) => i.id)).toEqual([unused.id]);
    expect((await store.image(used.id)).id).toBe(used.id);
    expect((await store.image('t:1')).id).toBe(tagged.id);
    usedBy.delete(used.id);
    r = await pruneImages(store, { usedBy });
    expect(r.events).toEqual([{ deleted: used.id }]);
    expect((await checkStore(store)).problems).toEqual([]);
  });

  it('keeps images and blobs named by build-cache roots', async () => {
    const root = tempDir();
    const store = await openStore(root);
    const img = await store.putImage(await makeImage('cached', { layers: 2 }));
    const extra = await store.blobs.putBytes('cache-only blob');
    store.blobs.release([extra.digest]);
    await fsp.mkdir(join(root, 'cache', 'roots'), { recursive: true });
    await fsp.writeFile(join(root, 'cache', 'roots', 'build.json'), JSON.stringify([img.manifestDigest, extra.digest]));
    expect((await pruneImages(store, {})).images).toEqual([]);
    expect((await collectGarbage(store)).blobs).toEqual([]);
    await fsp.rm(join(root, 'cache', 'roots', 'build.json'));
    expect((await pruneImages(store, {})).images).toHaveLength(1);
    expect(await blobCount(root)).toBe(0);
  });
});

describe('useImage', () => {
  it('keeps an image\'s blobs from GC while this process uses it, even after rm', async () => {
    const root = tempDir();
    const store = await openStore(root);
    const img = await store.putImage(await makeImage('used', { layers: 2 }), { tags: ['used:1'] });
    const used = await store.useImage('used:1');
    expect(used.id).toBe(img.id);
    await removeImages(store, ['used:1']);
    for (const l of img.manifest.layers) expect(await store.blobs.has(l.digest)).toBe(true);
    expect(await store.blobs.has(img.id)).toBe(true);
    store.blobs.release([img.manifestDigest, img.id, ...img.manifest.layers.map((l) => l.digest)]);
    await collectGarbage(store);
    expect(await blobCount(root)).toBe(0);
  });
});

describe('collectGarbage / checkStore / diskUsage', () => {
  it('takes the distribution records of removed layers and images with them, and keeps the rest', async () => {
    const root = tempDir();
    const store = await openStore(root);
    const a = await store.putImage(await makeImage('dist-a', { layers: 2 }), { tags: ['a:1'] });
    const b = await store.putImage(await makeImage('dist-b'), { tags: ['b:1'] });
    const dist = openDistribution(root);
    const diffIdsOf = async (id: string) => (await (await store.image(id)).image.config()).rootfs.diff_ids;
    const source = (n: number) => ({ digest: `sha256:${String(n).repeat(64).slice(0, 64)}` as const, size: 10, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', repository: 'localhost:5000/x' });
    const [a1, a2] = await diffIdsOf(a.id);
    const [b1] = await diffIdsOf(b.id);
    await dist.addLayerSource(a1, source(1));
    await dist.addLayerSource(a2, source(2));
    await dist.addLayerSource(b1, source(3));
    const manifest = { repository: 'localhost:5000/x', digest: source(4).digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', manifest: '{}' };
    await dist.addImageSource(a.id, manifest);
    await dist.addImageSource(b.id, manifest);
    // a record left by a removal from before records were collected
    const orphan = `sha256:${'e'.repeat(64)}` as const;
    await dist.addLayerSource(orphan, source(5));
    const files = async () => (await Promise.all(['layers', 'images'].map((k) => fsp.readdir(join(root, 'distribution', k))))).flat().sort();
    expect(await files()).toHaveLength(6);

    const dry = await collectGarbage(store, { dryRun: true });
    expect(dry.distributionFiles).toBe(1);
    expect(await files()).toHaveLength(6);
    expect((await collectGarbage(store)).distributionFiles).toBe(1);
    expect(dist.layerSources(orphan)).toEqual([]);
    expect(await files()).toHaveLength(5);

    await removeImages(store, ['a:1']);
    expect(dist.layerSources(a1)).toEqual([]);
    expect(dist.layerSources(a2)).toEqual([]);
    expect(dist.imageSources(a.id)).toEqual([]);
    expect(dist.layerSources(b1).map((s) => s.digest)).toEqual([source(3).digest]);
    expect(dist.imageSources(b.id)).toHaveLength(1);
    expect(await files()).toEqual([`${b1.slice(7)}.json`, `${b.id.slice(7)}.json`].sort());
    expect((await checkStore(store)).problems).toEqual([]);
  });

  it('removes unreachable blobs and dead temp files; check finds corruption and missing blobs', async () => {
    const root = tempDir();
    const store = await openStore(root);
    const img = await store.putImage(await makeImage('g', { layers: 2 }), { tags: ['g'] });
    const orphan = await store.blobs.putBytes('orphan');
    // leased by this live process: kept
    expect((await collectGarbage(store)).blobs).toEqual([]);
    store.blobs.release([orphan.digest]);
    await fsp.writeFile(join(root, 'tmp', 'blob-999999999-0abc'), 'half a blob');
    const gc = await collectGarbage(store, { tmp: true });
    expect(gc).toMatchObject({ blobs: [orphan.digest], bytes: 6, tmpFiles: 1, tmpBytes: 11 });
    let check = await checkStore(store);
    expect(check).toMatchObject({ blobs: 4, images: 1, problems: [] });
    const du = await diskUsage(store);
    expect(du.find((d) => d.kind === 'layers')).toMatchObject({ count: 2, bytes: img.manifest.layers.reduce((n, l) => n + l.size, 0) });
    expect(du.find((d) => d.kind === 'unreferenced')).toMatchObject({ count: 0 });

    const layer = img.manifest.layers[1].digest;
    await fsp.chmod(store.blobs.path(layer), 0o644);
    await fsp.writeFile(store.blobs.path(layer), 'corrupted');
    check = await checkStore(store);
    expect(check.problems.map((p) => [p.object, p.digest])).toEqual([['blob', layer], ['layer', layer]]);
    await fsp.rm(store.blobs.path(img.id));
    check = await checkStore(store);
    expect(check.problems).toContainEqual({ object: 'config', digest: img.id, ref: 'docker.io/library/g:latest', problem: 'blob is missing' });
  });
});
