import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, docker, dockerOk, ensureDockerBusybox, peerAvailable, tempDir, writeTree } from '@strata/testing';
import { MediaType, sha256, type Digest } from '@strata/oci';
import { layerFromUncompressed } from '@strata/layer';
import { dockerArchive, imageFromParts, loadImages, ociArchive, type Image } from '../src/index';
import { readAll, testSink } from './helpers';

const PREFIX = 'strata-it-formats';
const MULTI = `${PREFIX}/multi:1`;

/** Rebuild an Image from what a load put into a (test) store. */
function storedImage(root: string, id: Digest): Image {
  const blob = (d: string) => join(root, 'blobs', 'sha256', d.slice(7));
  const rawConfig = readFileSync(blob(id));
  const diffIds: Digest[] = JSON.parse(rawConfig.toString()).rootfs.diff_ids;
  const layers = diffIds.map((d) => layerFromUncompressed({ open: async () => createReadStream(blob(d)), diffId: d, size: readFileSync(blob(d)).length, mediaType: MediaType.OCI_LAYER }));
  return imageFromParts({ rawConfig, layers });
}

async function dockerId(ref: string): Promise<string> {
  return (await dockerOk(['image', 'inspect', '--format', '{{.Id}}', ref])).out.trim();
}

describe.skipIf(!peerAvailable('docker'))('docker-archive interop with Docker 20.10', () => {
  let busybox: string;
  let saved: string;
  beforeAll(async () => {
    busybox = ensureDockerBusybox();
    const ctx = tempDir();
    writeTree(ctx, {
      Dockerfile: [
        `FROM ${busybox}`,
        'LABEL org.example.team=formats version=1',
        'ENV APP_HOME=/srv/app MODE=test',
        'COPY app.txt /srv/app/app.txt',
        'RUN echo built > /srv/app/built && rm -f /etc/group',
        'WORKDIR /srv/app',
        'ENTRYPOINT ["/bin/sh", "-c"]',
        'CMD ["cat /srv/app/app.txt /srv/app/built"]',
        '',
      ].join('\n'),
      'app.txt': 'hello from the app\n',
    });
    await dockerOk(['build', '-q', '-t', MULTI, ctx], { env: { DOCKER_BUILDKIT: '1' } });
    saved = join(tempDir(), 'save.tar');
    await dockerOk(['save', '-o', saved, busybox, MULTI]);
  }, 300_000);

  afterAll(async () => {
    await docker(['rmi', '-f', MULTI, `${PREFIX}/back:1`, `${PREFIX}/back-oci:1`]);
    cleanupTempDirs();
  });

  it('docker save → load: same image IDs as Docker, tags kept', async () => {
    const root = tempDir();
    const records = await loadImages({ root, openStore: () => testSink(root), source: { path: saved } });
    const byTag = Object.fromEntries(records.flatMap((r) => r.tags.map((t) => [t, r.id])));
    expect(byTag[`docker.io/${busybox}`]).toBe(await dockerId(busybox));
    expect(byTag[`docker.io/${MULTI}`]).toBe(await dockerId(MULTI));
  });

  it('the same image in the Docker ≥25 layout (built from the docker save blobs) loads to the same ID', async () => {
    const dir = tempDir();
    execFileSync('tar', ['-x', '-C', dir, '-f', saved]);
    const legacy = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Array<{ Config: string; RepoTags: string[]; Layers: string[] }>;
    const out = tempDir();
    mkdirSync(join(out, 'blobs', 'sha256'), { recursive: true });
    const put = (bytes: Buffer) => {
      const d = sha256(bytes);
      writeFileSync(join(out, 'blobs', 'sha256', d.slice(7)), bytes);
      return { digest: d, size: bytes.length };
    };
    const v25 = [];
    const index = [];
    for (const e of legacy) {
      const config = put(readFileSync(join(dir, e.Config)));
      const layers = e.Layers.map((l) => put(readFileSync(join(dir, l))));
      const manifest = put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: { mediaType: MediaType.OCI_CONFIG, ...config }, layers: layers.map((l) => ({ mediaType: MediaType.OCI_LAYER, ...l })) })));
      index.push({ mediaType: MediaType.OCI_MANIFEST, ...manifest, annotations: { 'io.containerd.image.name': `docker.io/${e.RepoTags[0]}`, 'org.opencontainers.image.ref.name': e.RepoTags[0].split(':').pop() } });
      v25.push({ Config: `blobs/sha256/${config.digest.slice(7)}`, RepoTags: e.RepoTags, Layers: layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`) });
    }
    writeFileSync(join(out, 'manifest.json'), JSON.stringify(v25));
    writeFileSync(join(out, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: index }));
    writeFileSync(join(out, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    const tar = join(tempDir(), 'v25.tar');
    execFileSync('tar', ['-c', '-f', tar, '-C', out, 'blobs', 'index.json', 'manifest.json', 'oci-layout']);
    const root = tempDir();
    const records = await loadImages({ root, openStore: () => testSink(root), source: { path: tar } });
    const byTag = Object.fromEntries(records.flatMap((r) => r.tags.map((t) => [t, r.id])));
    expect(byTag[`docker.io/${MULTI}`]).toBe(await dockerId(MULTI));
    expect(byTag[`docker.io/${busybox}`]).toBe(await dockerId(busybox));
  });

  for (const format of ['docker', 'oci'] as const) {
    it(`save (--format ${format}) → docker load → docker run works, same image ID`, async () => {
      const root = tempDir();
      const rec = (await loadImages({ root, openStore: () => testSink(root), source: { path: saved } })).find((r) => r.tags.includes(`docker.io/${MULTI}`))!;
      // Docker must take the image from our archive, not from what it already has.
      await dockerOk(['rmi', '-f', rec.id]);
      const tag = format === 'docker' ? `${PREFIX}/back:1` : `${PREFIX}/back-oci:1`;
      const entries = [{ image: storedImage(root, rec.id), tags: [`docker.io/${tag}`] }];
      const out = join(tempDir(), 'out.tar');
      const stream = format === 'docker' ? dockerArchive(entries, { tmpDir: tempDir() }) : ociArchive(entries, { tmpDir: tempDir(), compress: 'gzip' });
      writeFileSync(out, await readAll(stream));
      await dockerOk(['load', '-i', out]);
      expect(await dockerId(tag)).toBe(rec.id);
      const run = await dockerOk(['run', '--rm', tag]);
      expect(run.out).toBe('hello from the app\nbuilt\n');
      expect(sha256(readFileSync(join(root, 'blobs', 'sha256', rec.id.slice(7))))).toBe(rec.id);
    });
  }
});
