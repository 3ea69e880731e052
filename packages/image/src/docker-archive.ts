import { chainIds, digestHex, familiarReference, familiarRepository, parseReference, sha256, type Digest } from '@strata/oci';
import { tarBytes, tarDir, tarEnd, tarMember } from './archive-writer';
import { createScratch, uncompressedLayer, type SaveEntry } from './save-entry';

export { readDockerArchive } from './docker-archive-read';

/** Docker's all-zero container config, as the legacy per-layer `json` carries it. */
const EMPTY_CONTAINER_CONFIG = {
  Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false,
  OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null, WorkingDir: '', Entrypoint: null,
  OnBuild: null, Labels: null,
};

/**
 * Legacy v1 layer IDs name the `<id>/` directories. Docker derives them from the chain and the
 * parent; nothing reads them back but `repositories`, so they only need to be stable and to be
 * shared by images with the same layer chain (each layer is then written once).
 */
function v1Ids(diffIds: Digest[]): string[] {
  const ids: string[] = [];
  for (const chain of chainIds(diffIds)) {
    const parent = ids[ids.length - 1];
    ids.push(digestHex(sha256(JSON.stringify({ layer_id: chain, ...(parent ? { parent: `sha256:${parent}` } : {}) }))));
  }
  return ids;
}

export interface DockerArchiveOptions {
  /** Where temp files go if a layer's uncompressed size must be measured (ROOT/tmp). */
  tmpDir: string;
}

/**
 * The `docker save` layout that every Docker loads (20.10 and ≥25): `<id>/layer.tar` (uncompressed,
 * as Docker writes it), `<id>/json`, `<id>/VERSION`, `<config hex>.json`, `manifest.json`,
 * `repositories`. Several images share layers, written once. Config bytes are kept exactly, so
 * Docker reports the same image ID.
 */
export function dockerArchive(entries: SaveEntry[], opts: DockerArchiveOptions): AsyncIterable<Uint8Array> {
  return (async function* () {
    const scratch = createScratch(opts.tmpDir, 'save');
    try {
      const written = new Set<string>();
      const manifest: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
      const repositories: Record<string, Record<string, string>> = {};
      for (const { image, tags } of entries) {
        const config = await image.config();
        const ids = v1Ids(config.rootfs.diff_ids);
        const layers = await image.layers();
        for (const [i, layer] of layers.entries()) {
          const id = ids[i];
          if (written.has(id)) continue;
          written.add(id);
          const u = await uncompressedLayer(layer, scratch);
          if (u.diffId !== config.rootfs.diff_ids[i]) throw new Error(`layer ${i} diffID ${u.diffId} does not match the config's ${config.rootfs.diff_ids[i]}`);
          const json = { id, ...(i > 0 ? { parent: ids[i - 1] } : {}), created: '1970-01-01T00:00:00Z', container_config: EMPTY_CONTAINER_CONFIG, os: config.os ?? 'linux' };
          yield* tarDir(id);
          yield* tarBytes(`${id}/VERSION`, '1.0');
          yield* tarBytes(`${id}/json`, JSON.stringify(json));
          yield* tarMember(`${id}/layer.tar`, u.size, await u.open());
        }
        const configName = `${digestHex(await image.configDigest())}.json`;
        if (!written.has(configName)) {
          written.add(configName);
          yield* tarBytes(configName, await image.rawConfig());
        }
        const top = ids[ids.length - 1];
        for (const t of tags) {
          const ref = parseReference(t);
          if (ref.tag && top) (repositories[familiarRepository(ref)] ??= {})[ref.tag] = top;
        }
        manifest.push({ Config: configName, RepoTags: tags.length ? tags.map((t) => familiarReference(parseReference(t))) : null, Layers: ids.map((id) => `${id}/layer.tar`) });
      }
      yield* tarBytes('manifest.json', `${JSON.stringify(manifest)}\n`);
      if (Object.keys(repositories).length) yield* tarBytes('repositories', `${JSON.stringify(repositories)}\n`);
      yield* tarEnd();
    } finally {
      scratch.remove();
    }
  })();
}
