import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { StrataError } from '@strata/errors';
import {
  isDigest, isIndexMediaType, isManifestMediaType, layerCompression, parseImageConfig, parseIndex, parseManifest,
  type Descriptor, type Digest,
} from '@strata/oci';
import { readIndex, refName } from './index-file';
import type { Store } from './store';

/** One finding of `store check` (findings are data; the CLI turns them into exit 1). */
export interface Problem {
  /** What is wrong: blob, manifest, config, layer, index, layout. */
  object: string;
  digest?: string;
  /** The tag (or image) through which the object is reachable. */
  ref?: string;
  problem: string;
}

export interface CheckResult {
  blobs: number;
  bytes: number;
  images: number;
  problems: Problem[];
}

/**
 * Re-hash every blob and validate every reachable index/manifest/config: media types, sizes
 * against descriptors, layer count against diff_ids, uncompressed layers against their diffIDs.
 */
export async function checkStore(store: Store): Promise<CheckResult> {
  const problems: Problem[] = [];
  const { blobs, root } = store;
  try {
    const layout = JSON.parse(await fsp.readFile(join(root, 'oci-layout'), 'utf8'));
    if (layout?.imageLayoutVersion !== '1.0.0') problems.push({ object: 'layout', problem: `oci-layout has imageLayoutVersion ${JSON.stringify(layout?.imageLayoutVersion)}` });
  } catch (err) {
    problems.push({ object: 'layout', problem: `oci-layout unreadable: ${(err as Error).message}` });
  }

  // 1. Every blob hashes to its name.
  const bad = new Set<Digest>();
  let count = 0;
  let bytes = 0;
  for (const name of await fsp.readdir(join(root, 'blobs', 'sha256'))) {
    const d = `sha256:${name}`;
    if (!isDigest(d)) {
      problems.push({ object: 'blob', digest: name, problem: 'file in blobs/sha256 is not named by a sha256 digest' });
      continue;
    }
    const v = await blobs.verify(d).catch(() => undefined);
    if (!v) continue; // removed meanwhile by a concurrent GC
    count++;
    bytes += v.size;
    if (!v.ok) {
      bad.add(d);
      problems.push({ object: 'blob', digest: d, problem: `content hashes to ${v.actual}` });
    }
  }

  // 2. Everything reachable from index.json is present and well-formed. Under the lock (it is
  // quick: sizes and small reads) so a concurrent `image rm` + GC is not reported as damage.
  return store.withLock(() => checkReachable(store, bad, problems, count, bytes));
}

async function checkReachable(store: Store, bad: Set<Digest>, problems: Problem[], count: number, bytes: number): Promise<CheckResult> {
  const { blobs, root } = store;
  let index;
  try {
    index = await readIndex(root);
  } catch (err) {
    problems.push({ object: 'index', problem: err instanceof StrataError ? err.message : String(err) });
    return { blobs: count, bytes, images: 0, problems };
  }
  const checked = new Set<Digest>();
  const present = async (d: Descriptor, object: string, ref: string | undefined): Promise<boolean> => {
    const size = await blobs.size(d.digest);
    if (size === undefined) {
      problems.push({ object, digest: d.digest, ref, problem: 'blob is missing' });
      return false;
    }
    if (size !== d.size) problems.push({ object, digest: d.digest, ref, problem: `blob is ${size} bytes, descriptor says ${d.size}` });
    return !bad.has(d.digest);
  };
  const visit = async (d: Descriptor, ref: string | undefined): Promise<void> => {
    if (checked.has(d.digest)) return;
    checked.add(d.digest);
    if (isIndexMediaType(d.mediaType)) {
      if (!(await present(d, 'index', ref))) return;
      try {
        const idx = parseIndex(await blobs.read(d.digest));
        for (const m of idx.manifests) await visit(m, ref);
      } catch (err) {
        problems.push({ object: 'index', digest: d.digest, ref, problem: (err as Error).message });
      }
      return;
    }
    if (!isManifestMediaType(d.mediaType)) {
      problems.push({ object: 'manifest', digest: d.digest, ref, problem: `unexpected media type ${d.mediaType}` });
      return;
    }
    if (!(await present(d, 'manifest', ref))) return;
    let manifest;
    try {
      manifest = parseManifest(await blobs.read(d.digest));
    } catch (err) {
      problems.push({ object: 'manifest', digest: d.digest, ref, problem: (err as Error).message });
      return;
    }
    if (manifest.mediaType !== undefined && manifest.mediaType !== d.mediaType) {
      problems.push({ object: 'manifest', digest: d.digest, ref, problem: `media type ${manifest.mediaType} differs from its descriptor's ${d.mediaType}` });
    }
    let diffIds: Digest[] | undefined;
    if (await present(manifest.config, 'config', ref)) {
      try {
        diffIds = parseImageConfig(await blobs.read(manifest.config.digest)).rootfs.diff_ids;
      } catch (err) {
        problems.push({ object: 'config', digest: manifest.config.digest, ref, problem: (err as Error).message });
      }
    }
    if (diffIds && diffIds.length !== manifest.layers.length) {
      problems.push({ object: 'config', digest: manifest.config.digest, ref, problem: `${diffIds.length} diff_ids for ${manifest.layers.length} layers` });
    }
    for (const [i, l] of manifest.layers.entries()) {
      const c = layerCompression(l.mediaType);
      if (c === undefined) problems.push({ object: 'layer', digest: l.digest, ref, problem: `unknown layer media type ${l.mediaType}` });
      await present(l, 'layer', ref);
      if (c === 'none' && diffIds && diffIds[i] !== undefined && diffIds[i] !== l.digest) {
        problems.push({ object: 'layer', digest: l.digest, ref, problem: `uncompressed layer ${i} does not match diff_id ${diffIds[i]}` });
      }
    }
  };
  const images = new Set<Digest>();
  for (const d of index.manifests) {
    images.add(d.digest);
    await visit(d, refName(d) ?? d.digest);
  }
  return { blobs: count, bytes, images: images.size, problems };
}
