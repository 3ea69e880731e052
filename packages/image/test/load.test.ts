import { existsSync, mkdirSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, hashTree, tempDir } from '@strata/testing';
import { MediaType, sha256 } from '@strata/oci';
import { StrataError } from '@strata/errors';
import { loadImages } from '../src/index';
import { blobBytes, configFor, gzip, legacyArchive, makeLayer, makeTar, ociImageBlobs, testSink, zstd, type TarMember } from './helpers';

afterAll(() => cleanupTempDirs());

async function load(root: string, archive: Buffer | { path: string }) {
  let sink: Awaited<ReturnType<typeof testSink>> | undefined;
  const source = Buffer.isBuffer(archive) ? { stream: (async function* () { yield archive; })(), name: 'test archive' } : archive;
  const records = await loadImages({ root, openStore: async () => (sink = await testSink(root)), source });
  return { records, sink: sink! };
}

async function twoLayers() {
  const l1 = await makeLayer({ 'bin/a': 'aaa', 'etc/passwd': 'root:x:0:0::/root:/bin/sh\n' });
  const l2 = await makeLayer({ 'app/main': 'x'.repeat(100_000) });
  return [l1, l2];
}

describe('image load: docker-archive, legacy layout', () => {
  it('loads layers uncompressed, keeps config bytes (image ID) and tags', async () => {
    const root = tempDir();
    const layers = await twoLayers();
    const config = configFor(layers);
    const { records, sink } = await load(root, await legacyArchive(layers, config, ['strata-it-formats/one:1']));
    expect(records).toEqual([{ id: sha256(config), tags: ['docker.io/strata-it-formats/one:1'], layers: 2, format: 'docker-archive' }]);
    for (const l of layers) expect(await blobBytes(root, sha256(l))).toEqual(l);
    expect(await blobBytes(root, sha256(config))).toEqual(config);
    expect(sink.images()[0].id).toBe(sha256(config));
    // nothing left in tmp/ but the blob store's own bookkeeping
    expect(readdirSync(join(root, 'tmp')).filter((n) => !n.startsWith('lease-'))).toEqual([]);
  });

  it('reads gzip and zstd layer.tar members and stores them uncompressed', async () => {
    const root = tempDir();
    const layers = await twoLayers();
    const config = configFor(layers);
    const archive = await legacyArchive(layers, config, ['x:1'], { layerData: (i, l) => (i === 0 ? gzip(l) : zstd(l)) });
    const { records } = await load(root, archive);
    expect(records[0].id).toBe(sha256(config));
    for (const l of layers) expect(await blobBytes(root, sha256(l))).toEqual(l);
  });

  it('follows symlinked layer.tar (a layer shared between images) and does not rely on member order', async () => {
    const root = tempDir();
    const [l1, l2] = await twoLayers();
    const c1 = configFor([l1]);
    const c2 = configFor([l1, l2], { created: '2024-02-02T00:00:00Z' });
    const archive = await makeTar([
      { name: 'manifest.json', data: JSON.stringify([
        { Config: 'c1.json', RepoTags: ['a:1'], Layers: ['L1/layer.tar'] },
        { Config: 'c2.json', RepoTags: ['b:1', 'b:2'], Layers: ['L1b/layer.tar', 'L2/layer.tar'] },
      ]) },
      { name: 'L1/layer.tar', data: l1 },
      { name: 'L1b/layer.tar', type: 'symlink', linkname: '../L1/layer.tar' },
      { name: 'L2/layer.tar', data: l2 },
      { name: 'c1.json', data: c1 },
      { name: 'c2.json', data: c2 },
    ]);
    const { records } = await load(root, archive);
    expect(records.map((r) => [r.id, r.tags])).toEqual([
      [sha256(c1), ['docker.io/library/a:1']],
      [sha256(c2), ['docker.io/library/b:1', 'docker.io/library/b:2']],
    ]);
  });

  it('reads an archive that is itself gzip-compressed (docker save | gzip)', async () => {
    const root = tempDir();
    const layers = await twoLayers();
    const config = configFor(layers);
    const { records } = await load(root, gzip(await legacyArchive(layers, config, ['x:1'])));
    expect(records[0].id).toBe(sha256(config));
  });
});

describe('image load: Docker ≥25 layout (OCI layout + manifest.json)', () => {
  it('uses manifest.json paths into blobs/sha256 and verifies them', async () => {
    const root = tempDir();
    const layers = await twoLayers();
    const config = configFor(layers);
    const oci = ociImageBlobs(layers.map((l) => ({ data: l, mediaType: MediaType.OCI_LAYER })), config);
    const archive = await makeTar([
      { name: 'blobs/', type: 'directory' },
      { name: 'blobs/sha256/', type: 'directory' },
      ...oci.members,
      { name: 'index.json', data: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MediaType.OCI_MANIFEST, digest: oci.manifestDigest, size: oci.manifestSize, annotations: { 'io.containerd.image.name': 'docker.io/library/v25:latest', 'org.opencontainers.image.ref.name': 'latest' } }] }) },
      { name: 'manifest.json', data: JSON.stringify([{ Config: `blobs/sha256/${sha256(config).slice(7)}`, RepoTags: ['v25:latest'], Layers: layers.map((l) => `blobs/sha256/${sha256(l).slice(7)}`) }]) },
      { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
      { name: 'repositories', data: '{}' },
    ]);
    const { records } = await load(root, archive);
    expect(records).toEqual([{ id: sha256(config), tags: ['docker.io/library/v25:latest'], layers: 2, format: 'docker-archive' }]);
  });
});

describe('image load: OCI image layout', () => {
  async function ociArchiveOf(compress: 'gzip' | 'zstd' | 'none', opts: { nested?: boolean } = {}) {
    const layers = await twoLayers();
    const config = configFor(layers);
    const enc = (l: Buffer) => (compress === 'gzip' ? { data: gzip(l), mediaType: MediaType.OCI_LAYER_GZIP } : compress === 'zstd' ? { data: zstd(l), mediaType: MediaType.OCI_LAYER_ZSTD } : { data: l, mediaType: MediaType.OCI_LAYER });
    const img = ociImageBlobs(layers.map(enc), config);
    const members: TarMember[] = [...img.members];
    let top: { mediaType: string; digest: string; size: number } = { mediaType: MediaType.OCI_MANIFEST, digest: img.manifestDigest, size: img.manifestSize };
    if (opts.nested) {
      // a multi-platform index (arm64 decoy whose blobs are absent, an attestation) inside the top index
      const arm = { mediaType: MediaType.OCI_MANIFEST, digest: sha256('arm'), size: 3, platform: { architecture: 'arm64', os: 'linux' } };
      const att = { mediaType: MediaType.OCI_MANIFEST, digest: sha256('att'), size: 3, platform: { architecture: 'unknown', os: 'unknown' } };
      const idx = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [arm, { ...top, platform: { architecture: 'amd64', os: 'linux' } }, att] });
      members.push({ name: `blobs/sha256/${sha256(idx).slice(7)}`, data: idx });
      top = { mediaType: MediaType.OCI_INDEX, digest: sha256(idx), size: Buffer.byteLength(idx) };
    }
    members.push({ name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' });
    members.push({ name: 'index.json', data: JSON.stringify({ schemaVersion: 2, manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': 'example.com/oci/img:2' } }] }) });
    return { archive: await makeTar(members), layers, config, members };
  }

  for (const compress of ['gzip', 'zstd', 'none'] as const) {
    it(`reads ${compress} layers and stores them uncompressed`, async () => {
      const root = tempDir();
      const { archive, layers, config } = await ociArchiveOf(compress);
      const { records } = await load(root, archive);
      expect(records).toEqual([{ id: sha256(config), tags: ['example.com/oci/img:2'], layers: 2, format: 'oci-layout' }]);
      for (const l of layers) expect(await blobBytes(root, sha256(l))).toEqual(l);
    });
  }

  it('picks linux/amd64 from a nested multi-platform index', async () => {
    const root = tempDir();
    const { archive, config } = await ociArchiveOf('gzip', { nested: true });
    const { records } = await load(root, archive);
    expect(records.map((r) => [r.id, r.tags])).toEqual([[sha256(config), ['example.com/oci/img:2']]]);
  });

  it('--platform picks another entry, and a missing platform is a clear error', async () => {
    const { archive } = await ociArchiveOf('gzip', { nested: true });
    const root = tempDir();
    // the arm64 entry's blobs are absent from the archive: choosing it must fail on them
    await expect(loadImages({ root, openStore: () => testSink(root), platform: { os: 'linux', architecture: 'arm64' }, source: { stream: (async function* () { yield archive; })() } })).rejects.toThrow(/not in the archive/);
    await expect(loadImages({ root, openStore: () => testSink(root), platform: { os: 'linux', architecture: 's390x' }, source: { stream: (async function* () { yield archive; })() } })).rejects.toThrow(/no linux\/s390x image among linux\/arm64, linux\/amd64/);
  });

  it('reads an OCI layout directory', async () => {
    const root = tempDir();
    const dir = tempDir();
    const { members, config } = await ociArchiveOf('zstd');
    for (const m of members) {
      mkdirSync(join(dir, m.name, '..'), { recursive: true });
      writeFileSync(join(dir, m.name), m.data!);
    }
    const { records } = await load(root, { path: dir });
    expect(records[0].id).toBe(sha256(config));
  });
});

describe('image load: bad input leaves the store byte-for-byte unchanged', () => {
  async function storeWithImage() {
    const root = tempDir();
    const layers = await twoLayers();
    await load(root, await legacyArchive(layers, configFor(layers), ['keep:1']));
    return root;
  }

  async function expectFailure(archive: Buffer, code: string, message: RegExp) {
    const root = await storeWithImage();
    const before = hashTree(root);
    const err = await load(root, archive).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(StrataError);
    expect((err as StrataError).code).toBe(code);
    expect((err as StrataError).message).toMatch(message);
    expect((err as StrataError).message).not.toContain('\n');
    expect(hashTree(root)).toBe(before);
    // a fresh root that did not exist is not created
    const fresh = join(tempDir(), 'new-root');
    await expect(load(fresh, archive)).rejects.toThrow(message);
    expect(existsSync(fresh)).toBe(false);
  }

  it('truncated archive', async () => {
    const layers = await twoLayers();
    const full = await legacyArchive(layers, configFor(layers), ['x:1']);
    await expectFailure(full.subarray(0, Math.floor(full.length / 2)), 'INVALID_ARCHIVE', /truncated/);
  });

  it('a layer whose digest does not match the config', async () => {
    const layers = await twoLayers();
    const config = configFor(layers);
    const archive = await legacyArchive(layers, config, ['x:1'], { layerData: (i, l) => (i === 1 ? Buffer.concat([l, Buffer.alloc(512)]) : l) });
    await expectFailure(archive, 'DIGEST_MISMATCH', /diffID/);
  });

  it('an OCI blob whose digest does not match its descriptor', async () => {
    const layers = await twoLayers();
    const config = configFor(layers);
    const img = ociImageBlobs(layers.map((l) => ({ data: gzip(l), mediaType: MediaType.OCI_LAYER_GZIP })), config);
    const members = img.members.map((m, i) => (i === 0 ? { ...m, data: gzip(Buffer.concat([layers[0], Buffer.alloc(512)])) } : m));
    members.push({ name: 'index.json', data: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MediaType.OCI_MANIFEST, digest: img.manifestDigest, size: img.manifestSize }] }) });
    await expectFailure(await makeTar(members), 'DIGEST_MISMATCH', /hashes to/);
  });

  it('manifest.json naming a missing file', async () => {
    const layers = await twoLayers();
    const archive = await legacyArchive(layers, configFor(layers), ['x:1'], {});
    const broken = await makeTar([
      { name: 'c.json', data: configFor(layers) },
      { name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', RepoTags: ['x:1'], Layers: ['nope/layer.tar', 'nope2/layer.tar'] }]) },
    ]);
    void archive;
    await expectFailure(broken, 'INVALID_ARCHIVE', /names "nope\/layer.tar", which is not in the archive/);
  });

  it('a member named ../x', async () => {
    await expectFailure(await makeTar([{ name: '../x', data: 'evil' }, { name: 'manifest.json', data: '[]' }]), 'UNSAFE_PATH', /escapes/);
  });

  it('a member named /etc/x', async () => {
    await expectFailure(await makeTar([{ name: '/etc/x', data: 'evil' }, { name: 'manifest.json', data: '[]' }]), 'UNSAFE_PATH', /absolute/);
  });

  it('a symlink member pointing outside the archive', async () => {
    await expectFailure(await makeTar([{ name: 'a/layer.tar', type: 'symlink', linkname: '../../etc/passwd' }]), 'UNSAFE_PATH', /outside/);
  });

  it('a file that is not a tar', async () => {
    await expectFailure(Buffer.from('this is not an archive\n'.repeat(100)), 'INVALID_ARCHIVE', /not a tar archive/);
  });

  it('empty input', async () => {
    await expectFailure(Buffer.alloc(0), 'INVALID_ARCHIVE', /empty/);
  });

  // found by tools/reliability fuzzing: JSON.parse's message quoted the text over two lines,
  // and a history entry of null crashed the config check
  it('a manifest.json or index.json that is not JSON, on one line', async () => {
    await expectFailure(await makeTar([{ name: 'manifest.json', data: '\u0000\n' }]), 'INVALID_ARCHIVE', /manifest.json is not JSON/);
    await expectFailure(await makeTar([{ name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' }, { name: 'index.json', data: '\u0000\n' }]), 'INVALID_MANIFEST', /index.json: invalid index: not JSON/);
  });

  it('manifest.json naming a member with a newline, on one line', async () => {
    await expectFailure(await makeTar([{ name: 'manifest.json', data: JSON.stringify([{ Config: '\n', RepoTags: [], Layers: [] }]) }]), 'INVALID_ARCHIVE', /names "\\n", which is not in the archive/);
  });

  it('a config with a null history entry', async () => {
    const layers = await twoLayers();
    const config = configFor(layers, { history: [null, { created_by: 'x' }] });
    await expectFailure(await legacyArchive(layers, config, ['x:1']), 'INVALID_MANIFEST', /history entry is not an object/);
  });

  it('a tar that is no image archive', async () => {
    await expectFailure(await makeTar([{ name: 'hello.txt', data: 'hi' }]), 'INVALID_ARCHIVE', /no manifest.json or index.json/);
  });

  it('corrupt gzip layer', async () => {
    const layers = await twoLayers();
    const bad = gzip(layers[1]);
    bad.fill(7, 20, 60);
    await expectFailure(await legacyArchive(layers, configFor(layers), ['x:1'], { layerData: (i, l) => (i === 1 ? bad : l) }), 'INVALID_ARCHIVE', /corrupt gzip/);
  });
});
