import { promises as fsp, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';
import { openBlobStore, type BlobStore } from '@strata/cas';
import { MediaType, sha256, type Digest } from '@strata/oci';
import { readAll } from '@strata/layer';
import type { Image, ImageSink } from '../src/index';

export interface TarMember {
  name: string;
  data?: Uint8Array | string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  linkname?: string;
}

/** A tar built with tar-stream (an independent writer from ours). */
export async function makeTar(members: TarMember[]): Promise<Buffer> {
  const pack = tarPack();
  const out: Buffer[] = [];
  pack.on('data', (b: unknown) => out.push(b as Buffer));
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  for (const m of members) {
    const type = m.type ?? 'file';
    if (type === 'file') {
      const data = typeof m.data === 'string' ? Buffer.from(m.data) : Buffer.from(m.data ?? new Uint8Array());
      await new Promise<void>((res, rej) => pack.entry({ name: m.name, size: data.length, mode: 0o644, mtime: new Date(0) }, data, (e) => (e ? rej(e) : res())));
    } else {
      await new Promise<void>((res, rej) => pack.entry({ name: m.name, type, linkname: m.linkname, mode: 0o755, mtime: new Date(0) }, (e) => (e ? rej(e) : res())));
    }
  }
  pack.finalize();
  await done;
  return Buffer.concat(out);
}

/** A layer tar with a few files. */
export function makeLayer(files: Record<string, string>): Promise<Buffer> {
  return makeTar(Object.entries(files).map(([name, data]) => ({ name, data })));
}

export function zstd(buf: Buffer): Buffer {
  return execFileSync('zstd', ['-cq'], { input: buf, maxBuffer: 1 << 30 });
}

export function gzip(buf: Buffer): Buffer {
  return gzipSync(buf);
}

export function configFor(layers: Buffer[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '2024-01-01T00:00:00Z',
      config: { Cmd: ['sh'], Env: ['PATH=/bin'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l)) },
      history: layers.map(() => ({ created: '2024-01-01T00:00:00Z', created_by: 'test' })),
      ...extra,
    }),
  );
}

/** A legacy `docker save` archive of one image. */
export async function legacyArchive(layers: Buffer[], config: Buffer, tags: string[], opts: { layerData?: (i: number, l: Buffer) => Buffer; extra?: TarMember[] } = {}): Promise<Buffer> {
  const ids = layers.map((_, i) => sha256(`id${i}${sha256(config)}`).slice(7));
  const members: TarMember[] = [];
  layers.forEach((l, i) => {
    members.push({ name: `${ids[i]}/`, type: 'directory' }, { name: `${ids[i]}/VERSION`, data: '1.0' }, { name: `${ids[i]}/json`, data: '{}' });
    members.push({ name: `${ids[i]}/layer.tar`, data: opts.layerData ? opts.layerData(i, l) : l });
  });
  const cfgName = `${sha256(config).slice(7)}.json`;
  members.push({ name: cfgName, data: config });
  members.push({ name: 'manifest.json', data: JSON.stringify([{ Config: cfgName, RepoTags: tags, Layers: ids.map((id) => `${id}/layer.tar`) }]) });
  members.push(...(opts.extra ?? []));
  return makeTar(members);
}

export interface OciBlobSet {
  members: TarMember[];
  manifestDigest: Digest;
  manifestSize: number;
}

/** The blobs of one OCI image (layers stored as given, e.g. compressed) plus its manifest. */
export function ociImageBlobs(layerBlobs: Array<{ data: Buffer; mediaType: string }>, config: Buffer): OciBlobSet {
  const members: TarMember[] = [];
  const blob = (data: Buffer | string) => {
    const d = sha256(data);
    members.push({ name: `blobs/sha256/${d.slice(7)}`, data });
    return { digest: d, size: Buffer.byteLength(data) };
  };
  const layers = layerBlobs.map((l) => ({ mediaType: l.mediaType, ...blob(l.data) }));
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: { mediaType: MediaType.OCI_CONFIG, ...blob(config) }, layers });
  const m = blob(manifest);
  return { members, manifestDigest: m.digest, manifestSize: m.size };
}

/**
 * A minimal stand-in for @strata/image-store's Store on the real blob store: putImage writes
 * config + manifest and appends to index.json. (The CLI tests exercise the real store.)
 */
export async function testSink(root: string): Promise<ImageSink & { blobs: BlobStore; images(): Array<{ id: Digest; manifest: Digest; tags: string[] }> }> {
  const blobs = await openBlobStore(root);
  const indexPath = join(root, 'index.json');
  const list: Array<{ id: Digest; manifest: Digest; tags: string[] }> = [];
  return {
    root,
    blobs,
    withLock: (fn) => fn(),
    images: () => list,
    putImage: async (image: Image, opts = {}) => {
      for (const l of await image.layers()) {
        if (!(await blobs.has(await l.digest()))) throw new Error(`layer ${await l.digest()} missing`);
      }
      await blobs.putBytes(await image.rawConfig());
      await blobs.putBytes(await image.rawManifest());
      const index = JSON.parse(readFileSync(indexPath, 'utf8'));
      const desc = { mediaType: MediaType.OCI_MANIFEST, digest: await image.digest(), size: (await image.rawManifest()).length };
      const tags = opts.tags ?? [];
      if (tags.length === 0) index.manifests.push(desc);
      for (const t of tags) index.manifests.push({ ...desc, annotations: { 'org.opencontainers.image.ref.name': t } });
      writeFileSync(indexPath, JSON.stringify(index));
      const id = await image.configDigest();
      list.push({ id, manifest: desc.digest, tags });
      return { id, tags };
    },
  };
}

export async function blobBytes(root: string, d: Digest): Promise<Buffer> {
  return fsp.readFile(join(root, 'blobs', 'sha256', d.slice(7)));
}

export { readAll };
