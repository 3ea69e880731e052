import {
  ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, MediaType, familiarReference, ociLayerMediaType, parseReference, sha256,
  type Compression, type Descriptor, type Manifest,
} from '@strata/oci';
import { tarBytes, tarDir, tarEnd, tarMember } from './archive-writer';
import { encode } from './decode';
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
    try {
      yield* tarBytes('oci-layout', OCI_LAYOUT);
      yield* tarDir('blobs');
      yield* tarDir('blobs/sha256');
      const written = new Set<string>();
      const blobName = (d: string) => `blobs/sha256/${d.slice('sha256:'.length)}`;
      const index: Descriptor[] = [];
      const dockerManifest: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
      // The same layer compresses to the same blob: compress once per diffID.
      const compressed = new Map<string, Descriptor>();
      for (const { image, tags } of entries) {
        const layers: Descriptor[] = [];
        for (const layer of await image.layers()) {
          const diffId = await layer.diffId();
          let desc = compressed.get(diffId);
          if (!desc) {
            const u = await uncompressedLayer(layer, scratch);
            if (compress === 'none') {
              desc = { mediaType: MediaType.OCI_LAYER, digest: diffId, size: u.size };
              if (!written.has(diffId)) {
                written.add(diffId);
                yield* tarMember(blobName(diffId), u.size, await u.open());
              }
            } else {
              const file = scratch.file();
              const { digest, size } = await spool(encode(await u.open(), compress), file);
              desc = { mediaType: ociLayerMediaType(compress), digest, size };
              if (!written.has(digest)) {
                written.add(digest);
                yield* tarMember(blobName(digest), size, readFileStream(file));
              }
            }
            compressed.set(diffId, desc);
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
      scratch.remove();
    }
  })();
}
