import { StrataError } from '@strata/errors';
import {
  isIndexMediaType, parseIndex, parseManifest, sha256, type Descriptor, type Digest, type Index, type Manifest, type Reference,
} from '@strata/oci';
import { selectPlatform, type PlatformSpec } from './platform';
import type { FetchedManifest, Repository } from './registry';

/** The platform strata runs: linux/amd64. */
export const DEFAULT_PLATFORM: PlatformSpec = { os: 'linux', architecture: 'amd64' };

export interface ResolvedImage {
  /** What the reference named (an index or a manifest). */
  top: FetchedManifest;
  /** The single-platform manifest chosen. */
  manifest: FetchedManifest;
  parsed: Manifest;
  /** Set when `top` is an index. */
  index?: Index;
}

/** The tag or digest a reference asks a registry for. */
export function referenceOf(r: Reference): string {
  return r.digest ?? r.tag ?? 'latest';
}

/** Fetch what a reference names and, from an index, the platform's manifest. */
export async function resolveImage(repo: Repository, ref: Reference, platform: PlatformSpec = DEFAULT_PLATFORM): Promise<ResolvedImage> {
  const top = await repo.manifest(referenceOf(ref));
  if (!isIndexMediaType(top.mediaType)) return { top, manifest: top, parsed: parseManifest(top.bytes) };
  const index = parseIndex(top.bytes);
  const d = selectPlatform(index, platform, `${repo.name}@${top.digest}`);
  const manifest = await repo.manifest(d.digest);
  if (isIndexMediaType(manifest.mediaType)) throw new StrataError('UNSUPPORTED', `${repo.name}@${d.digest}: nested indexes are not supported`);
  return { top, manifest, parsed: parseManifest(manifest.bytes), index };
}

const SMALL_BLOB = 16 * 1024 * 1024;

/** A small blob (a config) in memory, verified against its descriptor. */
export async function readSmallBlob(repo: Repository, d: Descriptor): Promise<Buffer> {
  if (d.size > SMALL_BLOB) throw new StrataError('INVALID_MANIFEST', `${repo.name}@${d.digest}: a ${d.size}-byte config is too large`);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of repo.blob(d.digest, { size: d.size })) {
    n += c.length;
    if (n > d.size) throw new StrataError('SIZE_MISMATCH', `${repo.name}@${d.digest}: larger than its descriptor's ${d.size} bytes`);
    chunks.push(Buffer.from(c));
  }
  const bytes = Buffer.concat(chunks);
  const digest: Digest = sha256(bytes);
  if (digest !== d.digest) throw new StrataError('DIGEST_MISMATCH', `${repo.name}@${d.digest}: content hashes to ${digest}`);
  if (bytes.length !== d.size) throw new StrataError('SIZE_MISMATCH', `${repo.name}@${d.digest}: ${bytes.length} bytes, its descriptor says ${d.size}`);
  return bytes;
}

/** Run `fn` over `items`, at most `width` at a time; the first failure rejects (the others finish first). */
export async function parallel<T, R>(items: readonly T[], width: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failed: { err: unknown } | undefined;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i], i);
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, worker));
  if (failed) throw failed.err;
  return out;
}
