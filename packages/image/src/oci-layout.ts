import {
  ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, MediaType, familiarReference, ociLayerMediaType, parseReference, sha256,
  type Compression, type Descriptor, type Manifest,
} from '@strata/oci';
import { tarBytes, tarDir, tarEnd, tarMember } from './archive-writer';
import { compress as compressStream } from '@strata/layer';
import { rmSync } from 'node:fs';
import { createScratch, readFileStream, spool, uncompressedLayer, type SaveEntry } from './save-entry';

export { readOciLayout } from './oci-layout-read';

export interface OciArchiveOptions {
  /** Layer compression for distribution (default gzip); the store itself keeps layers uncompressed. */
  compress?: Compression;
  /** Temp files for compressed layers (ROOT/tmp). */
  tmpDir: string;
}

const OCI_LAYOUT = '{"imageLayoutVersion":"1.0.0"}';

/**
 * An OCI image layout as a tar (`oci-layout`, `index.json`, `blobs/sha256/…`), layers compressed
 * as asked. It also carries a Docker ≥25 `manifest.json` pointing into `blobs/`, so `docker load`
 * takes it too. index.json has one entry per tag, named like containerd and Docker ≥25 do
 * (`io.containerd.image.name` = full reference, `org.opencontainers.image.ref.name` = tag).
 */
export function ociArchive(entries: SaveEntry[], opts: OciArchiveOptions): AsyncIterable<Uint8Array> {
  const compress = opts.compress ?? 'gzip';
  return (async function* () {
    const scratch = createScratch(opts.tmpDir, 'save');
    let ahead: { stop(): void } | undefined;
    try {
      yield* tarBytes('oci-layout', OCI_LAYOUT);
      yield* tarDir('blobs');
      yield* tarDir('blobs/sha256');
      const written = new Set<string>();
      const blobName = (d: string) => `blobs/sha256/${d.slice('sha256:'.length)}`;
      const index: Descriptor[] = [];
      const dockerManifest: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
      // Compression is the slow stage: layers are compressed ahead of the writer, two at a time
      // (zlib and zstd run off the main thread), each once per diffID, into temp files.
      const jobs = new Map<string, () => Promise<{ desc: Descriptor; file?: string; open: () => Promise<AsyncIterable<Uint8Array>> }>>();
      const perImage: Array<Array<string>> = [];
      for (const { image } of entries) {
        const ids: string[] = [];
        for (const layer of await image.layers()) {
          const diffId = await layer.diffId();
          ids.push(diffId);
          if (jobs.has(diffId)) continue;
          jobs.set(diffId, async () => {
            const u = await uncompressedLayer(layer, scratch);
            if (compress === 'none') return { desc: { mediaType: MediaType.OCI_LAYER, digest: diffId, size: u.size }, open: u.open };
            const file = scratch.file();
            const { digest, size } = await spool(compressStream(await u.open(), compress), file);
            return { desc: { mediaType: ociLayerMediaType(compress), digest, size }, file, open: async () => readFileStream(file) };
          });
        }
        perImage.push(ids);
      }
      const started = runAhead([...jobs.entries()], 2);
      ahead = started;
      const results = started.results;
      const layerDescs = new Map<string, Descriptor>();
      for (const [i, { image, tags }] of entries.entries()) {
        const layers: Descriptor[] = [];
        for (const diffId of perImage[i]) {
          let desc = layerDescs.get(diffId);
          if (!desc) {
            const done = await results.get(diffId)!;
            desc = done.desc;
            layerDescs.set(diffId, desc);
            if (!written.has(desc.digest)) {
              written.add(desc.digest);
              yield* tarMember(blobName(desc.digest), desc.size, await done.open());
            }
            if (done.file) rmSync(done.file, { force: true });
          }
          layers.push(desc);
        }
        const rawConfig = await image.rawConfig();
        const configDesc: Descriptor = { mediaType: MediaType.OCI_CONFIG, digest: await image.configDigest(), size: rawConfig.byteLength };
        if (!written.has(configDesc.digest)) {
          written.add(configDesc.digest);
          yield* tarBytes(blobName(configDesc.digest), rawConfig);
        }
        const source = await image.manifest();
        const manifest: Manifest = {
          schemaVersion: 2,
          mediaType: MediaType.OCI_MANIFEST,
          config: configDesc,
          layers,
          ...(source.annotations ? { annotations: source.annotations } : {}),
        };
        const rawManifest = JSON.stringify(manifest);
        const manifestDesc: Descriptor = { mediaType: MediaType.OCI_MANIFEST, digest: sha256(rawManifest), size: Buffer.byteLength(rawManifest) };
        if (!written.has(manifestDesc.digest)) {
          written.add(manifestDesc.digest);
          yield* tarBytes(blobName(manifestDesc.digest), rawManifest);
        }
        if (tags.length === 0) index.push(manifestDesc);
        for (const t of tags) {
          const ref = parseReference(t);
          index.push({ ...manifestDesc, annotations: { [ANNOTATION_IMAGE_NAME]: t, ...(ref.tag ? { [ANNOTATION_REF_NAME]: ref.tag } : {}) } });
        }
        dockerManifest.push({
          Config: blobName(configDesc.digest),
          RepoTags: tags.length ? tags.map((t) => familiarReference(parseReference(t))) : null,
          Layers: layers.map((l) => blobName(l.digest)),
        });
      }
      yield* tarBytes('index.json', JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: index }));
      yield* tarBytes('manifest.json', `${JSON.stringify(dockerManifest)}\n`);
      yield* tarEnd();
    } finally {
      ahead?.stop();
      scratch.remove();
    }
  })();
}

/**
 * Run `jobs` in order, at most `width` at a time, ahead of the consumer; each result is a promise
 * in the map. `stop()` starts no more jobs (the consumer has gone away).
 */
function runAhead<T>(jobs: Array<[string, () => Promise<T>]>, width: number): { results: Map<string, Promise<T>>; stop(): void } {
  const results = new Map<string, Promise<T>>();
  const pending = jobs.map(([key, job]) => {
    let resolve!: (v: T) => void;
    let reject!: (e: unknown) => void;
    const p = new Promise<T>((a, b) => {
      resolve = a;
      reject = b;
    });
    p.catch(() => {}); // consumed (and rethrown) by the writer, if it gets that far
    results.set(key, p);
    return { job, resolve, reject };
  });
  let next = 0;
  let stopped = false;
  const worker = async () => {
    while (!stopped && next < pending.length) {
      const d = pending[next++];
      try {
        d.resolve(await d.job());
      } catch (err) {
        d.reject(err);
      }
    }
  };
  for (let i = 0; i < width; i++) void worker();
  return { results, stop: () => (stopped = true) };
}
