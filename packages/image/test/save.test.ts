import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, peerAvailable, tempDir } from '@strata/testing';
import { MediaType, sha256 } from '@strata/oci';
import { layerFromBlob, layerFromUncompressed } from '@strata/layer';
import { gzipSync } from 'node:zlib';
import { append, dockerArchive, imageFromParts, loadImages, ociArchive, withConfig, writeImage, type Image } from '../src/index';
import { blobBytes, configFor, makeLayer, readAll, testSink } from './helpers';

afterAll(() => cleanupTempDirs());

function memLayer(bytes: Buffer) {
  return layerFromUncompressed({ open: async () => (async function* () { yield bytes; })() });
}

async function sample(): Promise<{ image: Image; layers: Buffer[]; config: Buffer }> {
  const layers = [await makeLayer({ 'bin/a': 'aaa' }), await makeLayer({ 'app/x': 'y'.repeat(70_000) })];
  const config = configFor(layers);
  return { image: imageFromParts({ rawConfig: config, layers: layers.map(memLayer) }), layers, config };
}

async function loadBytes(bytes: Buffer) {
  const root = tempDir();
  const records = await loadImages({ root, openStore: () => testSink(root), source: { stream: (async function* () { yield bytes; })() } });
  return { root, records };
}

describe('image save', () => {
  it('docker format round-trips: same image ID, tags, layers; shared layers written once', async () => {
    const { image, layers, config } = await sample();
    const bigger = await append(image, [memLayer(await makeLayer({ 'more': 'z' }))], [{ created: '2024-01-02T00:00:00Z', created_by: 'more' }]);
    const tmpDir = tempDir();
    const bytes = await readAll(dockerArchive([{ image, tags: ['docker.io/library/a:1'] }, { image: bigger, tags: ['docker.io/library/b:1'] }], { tmpDir }));
    const names = execFileSync('tar', ['-t'], { input: bytes }).toString().trim().split('\n');
    expect(names.filter((n) => n.endsWith('/layer.tar'))).toHaveLength(3);
    expect(names).toContain('manifest.json');
    expect(names).toContain('repositories');
    const { root, records } = await loadBytes(bytes);
    expect(records.map((r) => [r.id, r.tags])).toEqual([
      [sha256(config), ['docker.io/library/a:1']],
      [await bigger.configDigest(), ['docker.io/library/b:1']],
    ]);
    for (const l of layers) expect(await blobBytes(root, sha256(l))).toEqual(l);
    // reproducible: the same images give the same bytes
    expect(await readAll(dockerArchive([{ image, tags: ['docker.io/library/a:1'] }, { image: bigger, tags: ['docker.io/library/b:1'] }], { tmpDir }))).toEqual(bytes);
  });

  for (const compress of ['gzip', 'zstd', 'none'] as const) {
    it(`oci format (${compress}) round-trips to the same image ID`, async () => {
      const { image, config } = await sample();
      const bytes = await readAll(ociArchive([{ image, tags: ['example.com/x/y:3'] }], { compress, tmpDir: tempDir() }));
      const { records } = await loadBytes(bytes);
      expect(records.map((r) => [r.id, r.tags, r.format])).toEqual([[sha256(config), ['example.com/x/y:3'], 'docker-archive']]);
      // without the Docker manifest.json it is a plain OCI layout
      const dir = tempDir();
      execFileSync('tar', ['-x', '-C', dir], { input: bytes });
      execFileSync('rm', [join(dir, 'manifest.json')]);
      const root = tempDir();
      const viaOci = await loadImages({ root, openStore: () => testSink(root), source: { path: dir } });
      expect(viaOci.map((r) => [r.id, r.tags, r.format])).toEqual([[sha256(config), ['example.com/x/y:3'], 'oci-layout']]);
    });
  }

  it('writeImage stores append()ed images uncompressed, blobs verified, compressed layers decompressed', async () => {
    const { image, layers } = await sample();
    const extra = await makeLayer({ 'etc/extra': 'e' });
    const gz = gzipSync(extra);
    const compressed = layerFromBlob({
      mediaType: MediaType.OCI_LAYER_GZIP, digest: sha256(gz), size: gz.length, diffId: sha256(extra),
      open: async () => (async function* () { yield gz; })(),
      openUncompressed: async () => (async function* () { yield extra; })(),
    });
    const next = await append(image, [compressed], [{ created: '2024-01-03T00:00:00Z', created_by: 'extra' }, { created: '2024-01-03T00:00:00Z', created_by: 'ENV x', empty_layer: true }]);
    const root = tempDir();
    const sink = await testSink(root);
    const r = await writeImage(sink, next, { tags: ['docker.io/library/w:1'] });
    expect(r.id).toBe(await next.configDigest());
    for (const l of [...layers, extra]) expect(await blobBytes(root, sha256(l))).toEqual(l);
    const manifest = JSON.parse((await blobBytes(root, sink.images()[0].manifest)).toString());
    expect(manifest.layers.map((l: { mediaType: string; digest: string }) => [l.mediaType, l.digest])).toEqual([...layers, extra].map((l) => [MediaType.OCI_LAYER, sha256(l)]));
    const config = await next.config();
    expect(config.rootfs.diff_ids).toEqual([...layers, extra].map((l) => sha256(l)));
    expect(config.history).toHaveLength(4);
    expect((await image.config()).rootfs.diff_ids).toHaveLength(2);
  });

  it('withConfig returns a new image and leaves the input alone', async () => {
    const { image, config } = await sample();
    const changed = await withConfig(image, { config: { Env: ['A=1'] } });
    expect((await changed.config()).config?.Env).toEqual(['A=1']);
    expect((await changed.config()).config?.Cmd).toEqual(['sh']);
    expect(await image.configDigest()).toBe(sha256(config));
    expect(await changed.configDigest()).not.toBe(sha256(config));
    expect((await changed.layers()).length).toBe(2);
  });

  describe.skipIf(!peerAvailable('skopeo'))('skopeo reads the OCI archive', () => {
    it('skopeo inspect oci-archive:FILE', async () => {
      const { image, config } = await sample();
      const file = join(tempDir(), 'img.tar');
      writeFileSync(file, await readAll(ociArchive([{ image, tags: ['docker.io/library/sk:1'] }], { tmpDir: tempDir() })));
      const out = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${file}`]).toString());
      expect(out.Layers).toHaveLength(2);
      expect(out.Architecture).toBe('amd64');
      const cfg = JSON.parse(execFileSync('skopeo', ['inspect', '--config', '--raw', `oci-archive:${file}`]).toString());
      expect(sha256(JSON.stringify(cfg))).toBe(sha256(config.toString()));
    });
  });

  describe.skipIf(!peerAvailable('skopeo'))('skopeo-written archives load back to the same image ID', () => {
    for (const [dest, flags] of [['docker-archive', []], ['oci-archive', ['--dest-compress-format', 'zstd']], ['oci-archive', ['--dest-compress-format', 'gzip']]] as const) {
      it(`${dest} ${flags.join(' ')}`, async () => {
        const { image, config } = await sample();
        const src = join(tempDir(), 'src.tar');
        writeFileSync(src, await readAll(ociArchive([{ image, tags: ['docker.io/library/sk:1'] }], { tmpDir: tempDir(), compress: 'none' })));
        const out = join(tempDir(), 'out.tar');
        execFileSync('skopeo', ['copy', '-q', ...flags, `oci-archive:${src}`, `${dest}:${out}${dest === 'docker-archive' ? ':example.com/sk:2' : ''}`]);
        const root = tempDir();
        const records = await loadImages({ root, openStore: () => testSink(root), source: { path: out } });
        expect(records.map((r) => r.id)).toEqual([sha256(config)]);
        if (dest === 'docker-archive') expect(records[0].tags).toEqual(['example.com/sk:2']);
      });
    }
  });

  describe.skipIf(!peerAvailable('umoci'))('umoci reads the OCI layout', () => {
    // umoci 0.4 predates zstd layers, so the gzip form is what it can check.
    it('umoci ls / stat / unpack (gzip layers)', async () => {
      const { image } = await sample();
      const dir = tempDir();
      execFileSync('tar', ['-x', '-C', dir], { input: await readAll(ociArchive([{ image, tags: ['docker.io/library/um:1'] }], { compress: 'gzip', tmpDir: tempDir() })) });
      expect(execFileSync('umoci', ['ls', '--layout', dir]).toString().trim()).toBe('1');
      const stat = execFileSync('umoci', ['stat', '--image', `${dir}:1`, '--json']).toString();
      expect(JSON.parse(stat).history).toHaveLength(2);
      const bundle = join(tempDir(), 'bundle');
      execFileSync('umoci', ['unpack', '--rootless', '--image', `${dir}:1`, bundle]);
      expect(execFileSync('cat', [join(bundle, 'rootfs', 'bin', 'a')]).toString()).toBe('aaa');
    });
  });
});
