import { StrataError } from '@strata/errors';
import { parseImageConfig, sha256, shortId, type Digest, type ImageConfig } from '@strata/oci';
import { memberBlob, memberBytes, type Members } from './archive-members';
import type { Staging, StagedBlob } from './staging';

/** An image read from an archive and verified, its layers staged uncompressed; not yet in the store. */
export interface LoadedImage {
  rawConfig: Buffer;
  config: ImageConfig;
  configDigest: Digest;
  layers: StagedBlob[];
  /** Normalised references to tag it with. */
  tags: string[];
  /** Manifest annotations worth keeping. */
  annotations?: Record<string, string>;
}

function missing(members: Members, name: string, by: string): never {
  throw new StrataError('INVALID_ARCHIVE', `${members.what}: ${by} names ${JSON.stringify(name)}, which is not in the archive`);
}

/** A JSON member by name, optionally checked against a digest/size (OCI blobs). */
export function jsonMember(members: Members, name: string, by: string, expect?: { digest: Digest; size?: number }): Buffer {
  const m = members.get(name) ?? missing(members, name, by);
  const bytes = memberBytes(m, name, members.what);
  if (expect) {
    const d = sha256(bytes);
    if (d !== expect.digest) throw new StrataError('DIGEST_MISMATCH', `${members.what}: "${name}" hashes to ${d}, not ${expect.digest}`);
    if (expect.size !== undefined && expect.size !== bytes.length) {
      throw new StrataError('SIZE_MISMATCH', `${members.what}: "${name}" is ${bytes.length} bytes, its descriptor says ${expect.size}`);
    }
  }
  return bytes;
}

/** A layer member staged uncompressed, checked against a descriptor (if any) and the config's diffID. */
export async function layerMember(
  members: Members,
  staging: Staging,
  name: string,
  by: string,
  diffId: Digest,
  expect?: { digest: Digest; size?: number },
): Promise<StagedBlob> {
  const m = members.get(name) ?? missing(members, name, by);
  const blob = await memberBlob(m, staging, `${members.what}: ${name}`);
  if (expect) {
    if (blob.rawDigest !== expect.digest) throw new StrataError('DIGEST_MISMATCH', `${members.what}: blob "${name}" hashes to ${blob.rawDigest}, not ${expect.digest}`);
    if (expect.size !== undefined && blob.rawSize !== expect.size) {
      throw new StrataError('SIZE_MISMATCH', `${members.what}: blob "${name}" is ${blob.rawSize} bytes, its descriptor says ${expect.size}`);
    }
  }
  if (blob.diffId !== diffId) {
    throw new StrataError('DIGEST_MISMATCH', `${members.what}: layer "${name}" has diffID ${blob.diffId}, the image config says ${diffId}`);
  }
  return blob;
}

export function parseConfigMember(bytes: Buffer, members: Members, name: string): ImageConfig {
  try {
    return parseImageConfig(bytes);
  } catch (err) {
    if (err instanceof StrataError) throw new StrataError(err.code, `${members.what}: ${name}: ${err.message}`, { cause: err });
    throw err;
  }
}

export function checkLayerCount(config: ImageConfig, configDigest: Digest, count: number, members: Members, what: string): void {
  if (config.rootfs.diff_ids.length !== count) {
    throw new StrataError(
      'INVALID_ARCHIVE',
      `${members.what}: ${what} lists ${count} layers but config ${shortId(configDigest)} has ${config.rootfs.diff_ids.length} diff_ids`,
    );
  }
}
