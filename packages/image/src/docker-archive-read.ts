import { StrataError } from '@strata/errors';
import { normalizeReference, sha256, type Digest } from '@strata/oci';
import type { Members } from './archive-members';
import type { Staging } from './staging';
import { checkLayerCount, jsonMember, layerMember, parseConfigMember, type LoadedImage } from './verify';

interface ManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

const BLOB_PATH = /^blobs\/sha256\/([a-f0-9]{64})$/;

/** The digest a Docker ≥25 path (`blobs/sha256/<hex>`) promises; legacy paths promise nothing. */
function pathDigest(path: string): { digest: Digest } | undefined {
  const m = BLOB_PATH.exec(path.replace(/^\.\//, ''));
  return m ? { digest: `sha256:${m[1]}` } : undefined;
}

function parseEntries(bytes: Buffer, what: string): ManifestEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new StrataError('INVALID_ARCHIVE', `${what}: manifest.json is not JSON (${(err as Error).message.replace(/\s+/g, ' ')})`);
  }
  if (!Array.isArray(doc)) throw new StrataError('INVALID_ARCHIVE', `${what}: manifest.json is not a list`);
  return doc.map((e: ManifestEntry, i) => {
    if (!e || typeof e.Config !== 'string' || !Array.isArray(e.Layers) || !e.Layers.every((l) => typeof l === 'string')) {
      throw new StrataError('INVALID_ARCHIVE', `${what}: manifest.json entry ${i} needs a Config path and a Layers list`);
    }
    if (e.RepoTags != null && (!Array.isArray(e.RepoTags) || !e.RepoTags.every((t) => typeof t === 'string'))) {
      throw new StrataError('INVALID_ARCHIVE', `${what}: manifest.json entry ${i} has a malformed RepoTags`);
    }
    return e;
  });
}

/**
 * A docker-archive: `manifest.json` lists each image's config and layers by path — `<id>.json` and
 * `<id>/layer.tar` in the legacy `docker save` layout, `blobs/sha256/<hex>` in Docker ≥25's.
 */
export async function readDockerArchive(members: Members, staging: Staging): Promise<LoadedImage[]> {
  const entries = parseEntries(jsonMember(members, 'manifest.json', 'the archive'), members.what);
  const out: LoadedImage[] = [];
  for (const e of entries) {
    const rawConfig = jsonMember(members, e.Config, 'manifest.json', pathDigest(e.Config));
    const configDigest = sha256(rawConfig);
    const config = parseConfigMember(rawConfig, members, e.Config);
    checkLayerCount(config, configDigest, e.Layers.length, members, 'manifest.json');
    const layers = [];
    for (const [i, path] of e.Layers.entries()) {
      layers.push(await layerMember(members, staging, path, 'manifest.json', config.rootfs.diff_ids[i], pathDigest(path)));
    }
    const tags = (e.RepoTags ?? []).map((t) => {
      try {
        return normalizeReference(t);
      } catch (err) {
        throw new StrataError('INVALID_ARCHIVE', `${members.what}: manifest.json has an invalid tag "${t}"`, { cause: err });
      }
    });
    out.push({ rawConfig, config, configDigest, layers, tags });
  }
  return out;
}
