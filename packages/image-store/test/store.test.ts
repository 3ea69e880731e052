import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { isStrataError } from '@strata/errors';
import { cleanupTempDirs, peerAvailable, requireOrSkip, tempDir } from '@strata/testing';
import { processStartTime } from '@strata/cas';
import { openStore, readIndex } from '../src/index';
import { makeImage } from './helpers';

afterAll(cleanupTempDirs);

describe('openStore / putImage / image / tag', () => {
  it('stores an image and resolves it by tag, familiar tag, digest, ID and ID prefix', async () => {
    const root = tempDir();
    const store = await openStore(root);
    const img = await makeImage('a', { layers: 2 });
    const s = await store.putImage(img, { tags: ['busybox', 'example.com/x/y:1'] });
    expect(s.id).toBe(await img.configDigest());
    expect(s.manifestDigest).toBe(await img.digest());
    expect(s.tags).toEqual(['docker.io/library/busybox:latest', 'example.com/x/y:1']);
    // Docker's Size: bytes of the regular files ("a layer 0\n", "a layer 1\n"), not the tars' length
    expect(s.size).toBe(20);
    expect(s.descriptor.annotations?.['dev.strata.image.size']).toBe('20');
    for (const ref of ['busybox', 'busybox:latest', 'docker.io/library/busybox:latest', 'library/busybox', 'example.com/x/y:1', s.id, s.id.slice(7), s.id.slice(7, 13), `busybox@${s.manifestDigest}`, s.manifestDigest]) {
      expect((await store.image(ref)).id, ref).toBe(s.id);
    }
    await expect(store.image('nope')).rejects.toSatisfy((e) => isStrataError(e, 'IMAGE_NOT_FOUND'));
    await expect(store.image(s.id.slice(7, 9))).rejects.toSatisfy((e) => isStrataError(e, 'IMAGE_NOT_FOUND'));
    const index = await readIndex(root);
    expect(index.manifests.map((d) => d.annotations?.['org.opencontainers.image.ref.name'])).toEqual(['docker.io/library/busybox:latest', 'example.com/x/y:1']);
    expect(index.manifests[0].annotations?.['io.containerd.image.name']).toBe('docker.io/library/busybox:latest');
    // the manifest as stored is the image's own (layers were uncompressed already)
    const raw = await (await store.image('busybox')).image.rawManifest();
    expect(Buffer.from(raw).equals(Buffer.from(await img.rawManifest()))).toBe(true);
    expect((await (await (await store.image('busybox')).image.layers())[1].diffId())).toBe((await img.config()).rootfs.diff_ids[1]);
  });

  it('moving a tag leaves the old image dangling; tag and untag', async () => {
    const root = tempDir();
    const store = await openStore(root);
    const a = await store.putImage(await makeImage('a', { created: '2020-01-01T00:00:00Z' }), { tags: ['app:1'] });
    const b = await store.putImage(await makeImage('b', { created: '2021-01-01T00:00:00Z' }), { tags: ['app:1'] });
    let all = await store.images();
    expect(all.map((i) => [i.id, i.tags])).toEqual([[b.id, ['docker.io/library/app:1']], [a.id, []]]);
    const t0 = new Date().toISOString();
    await store.tag(a.id.slice(7, 19), 'app:old');
    expect((await store.image('app:old')).id).toBe(a.id);
    expect((await store.image('app:old')).lastTagTime! >= t0).toBe(true);
    await store.tag('app:1', 'app:2');
    expect((await store.image('app:2')).id).toBe(b.id);
    await store.untag('app:1');
    await expect(store.image('app:1')).rejects.toSatisfy((e) => isStrataError(e, 'IMAGE_NOT_FOUND'));
    await store.untag('app:2');
    all = await store.images();
    expect(all.map((i) => i.tags)).toEqual([[], ['docker.io/library/app:old']]);
    await expect(store.untag('app:2')).rejects.toSatisfy((e) => isStrataError(e, 'IMAGE_NOT_FOUND'));
    await expect(store.tag('app:old', 'x@sha256:' + 'a'.repeat(64))).rejects.toSatisfy((e) => isStrataError(e, 'INVALID_REFERENCE'));
  });

  it('an ambiguous ID prefix is an error', async () => {
    const root = tempDir();
    const store = await openStore(root);
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await store.putImage(await makeImage(`p${i}`))).id.slice(7));
    // find two IDs sharing a first hex char... with 40 images and 16 hex chars that is certain
    const byFirst = new Map<string, string[]>();
    for (const id of ids) byFirst.set(id.slice(0, 1), [...(byFirst.get(id.slice(0, 1)) ?? []), id]);
    const [a, b] = [...byFirst.values()].find((v) => v.length > 1)!;
    let n = 0;
    while (a[n] === b[n]) n++;
    if (n >= 4) await expect(store.image(a.slice(0, n))).rejects.toSatisfy((e) => isStrataError(e, 'CONFLICT'));
    expect((await store.image(a.slice(0, Math.max(n + 1, 4)))).id.slice(7)).toBe(a);
  });

  it('withLock serialises and is re-entrant; a dead holder does not wedge the store', async () => {
    const root = tempDir();
    const store = await openStore(root);
    const order: string[] = [];
    await Promise.all([
      store.withLock(async () => {
        order.push('a1');
        await store.withLock(async () => order.push('nested'));
        await new Promise((r) => setTimeout(r, 30));
        order.push('a2');
      }),
      store.withLock(async () => order.push('b')),
    ]);
    expect(order).toEqual(['a1', 'nested', 'a2', 'b']);
    // a lock file left by a killed process (pid that no longer exists)
    const dead = execFileSync('sh', ['-c', 'sh -c "echo \\$\\$" ']).toString().trim();
    await fsp.writeFile(join(root, 'lock'), `${dead} deadbeef\n`);
    await store.tag((await store.putImage(await makeImage('z'))).id, 'z:1');
    expect((await store.image('z:1')).tags).toEqual(['docker.io/library/z:1']);
    await expect(fsp.lstat(join(root, 'lock'))).rejects.toThrow(/ENOENT/);
    // the same in the form strata writes it: a link whose target names the holder
    await fsp.symlink(`${dead} deadbeef`, join(root, 'lock'));
    await store.tag('z:1', 'z:2');
    await expect(fsp.lstat(join(root, 'lock'))).rejects.toThrow(/ENOENT/);
  });

  it('a live holder times out with LOCKED', async () => {
    const root = tempDir();
    await openStore(root);
    await fsp.writeFile(join(root, 'lock'), `1 sometoken\n`); // pid 1 is alive
    const { storeLock } = await import('../src/lock');
    await expect(storeLock(root, { timeoutMs: 100 }).withLock(async () => 1)).rejects.toSatisfy((e) => isStrataError(e, 'LOCKED'));
  });

  // without /proc only the pid is checked, and a reused pid cannot be told from its first owner
  it.skipIf(!requireOrSkip(processStartTime(1) !== undefined, 'no /proc/1/stat: lock owners are checked by pid alone'))('a lock whose pid was reused by a later process is stale', async () => {
    const root = tempDir();
    const store = await openStore(root);
    const start = processStartTime(1)!;
    await fsp.writeFile(join(root, 'lock'), `1 token ${Number(start) + 1}\n`);
    expect(await store.withLock(async () => 'got it')).toBe('got it');
  });

  it('putImage refuses a layer whose content does not match its diffID; nothing is recorded', async () => {
    const { layerFromUncompressed } = await import('@strata/layer');
    const { imageFromParts } = await import('@strata/image');
    const { sha256 } = await import('@strata/oci');
    const src = await makeImage('liar');
    const [good] = await src.layers();
    const liar = layerFromUncompressed({ open: async () => (async function* () { yield Buffer.from('other bytes'); })(), diffId: await good.diffId(), size: 11 });
    const img = imageFromParts({ rawConfig: await src.rawConfig(), layers: [liar] });
    const root = tempDir();
    const store = await openStore(root);
    const indexBefore = await fsp.readFile(join(root, 'index.json'));
    await expect(store.putImage(img, { tags: ['liar'] })).rejects.toSatisfy((e) => isStrataError(e, 'DIGEST_MISMATCH'));
    expect((await fsp.readFile(join(root, 'index.json'))).equals(indexBefore)).toBe(true);
    expect(await store.blobs.has(await good.diffId())).toBe(false);
    expect(await store.blobs.has(sha256('other bytes'))).toBe(false);
    expect(await store.images()).toEqual([]);
  });

  it('putImage stores compressed layers uncompressed', async () => {
    const { gzipSync } = await import('node:zlib');
    const { layerFromBlob, readAll } = await import('@strata/layer');
    const { imageFromParts } = await import('@strata/image');
    const src = await makeImage('gz');
    const [l] = await src.layers();
    const tar = await readAll(await l.uncompressed());
    const gz = gzipSync(tar);
    const { sha256 } = await import('@strata/oci');
    const layer = layerFromBlob({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(gz), size: gz.length, diffId: await l.diffId(),
      open: async () => (async function* () { yield gz; })(), openUncompressed: async () => (async function* () { yield tar; })(),
    });
    const img = imageFromParts({ rawConfig: await src.rawConfig(), layers: [layer] });
    const store = await openStore(tempDir());
    const s = await store.putImage(img, { tags: ['gz'] });
    expect(s.id).toBe(await src.configDigest());
    expect(s.manifest.layers).toEqual([{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: await l.diffId(), size: tar.length }]);
    expect(await store.blobs.has(sha256(gz))).toBe(false);
  });
});

describe.skipIf(!peerAvailable('skopeo'))('skopeo reads the store', () => {
  it('skopeo inspect oci:ROOT:docker.io/library/x:tag', async () => {
    const root = tempDir();
    const store = await openStore(root);
    const s = await store.putImage(await makeImage('sk', { layers: 2 }), { tags: ['skopeo-test:1'] });
    const out = JSON.parse(execFileSync('skopeo', ['inspect', `oci:${root}:docker.io/library/skopeo-test:1`]).toString());
    expect(out.Digest).toBe(s.manifestDigest);
    expect(out.Layers).toHaveLength(2);
    const cfg = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `oci:${root}:docker.io/library/skopeo-test:1`]).toString());
    expect(cfg.rootfs.diff_ids).toEqual(s.config.rootfs.diff_ids);
  });
});

describe.skipIf(!peerAvailable('umoci'))('umoci reads the store', () => {
  it('umoci ls --layout ROOT', async () => {
    const root = tempDir();
    const store = await openStore(root);
    await store.putImage(await makeImage('um'), { tags: ['umoci-test:1', 'other:2'] });
    await store.putImage(await makeImage('dangling'));
    const out = execFileSync('umoci', ['ls', '--layout', root]).toString().trim().split('\n').sort();
    expect(out).toEqual(['docker.io/library/other:2', 'docker.io/library/umoci-test:1']);
  });
});
