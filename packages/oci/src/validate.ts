import { StrataError } from '@strata/errors';
import { isDigest } from './digest';
import type { Descriptor, ImageConfig, Index, Manifest } from './types';
import { isIndexMediaType } from './media-types';

function fail(what: string, why: string): never {
  throw new StrataError('INVALID_MANIFEST', `invalid ${what}: ${why}`);
}

function parseJson(bytes: Uint8Array | string, what: string): unknown {
  try {
    return JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    // JSON.parse quotes the start of the text: kept on one line
    fail(what, `not JSON (${(err as Error).message.replace(/\s+/g, ' ')})`);
  }
}

export function validateDescriptor(d: unknown, what = 'descriptor'): Descriptor {
  const o = d as Descriptor;
  if (!o || typeof o !== 'object') fail(what, 'not an object');
  if (typeof o.mediaType !== 'string') fail(what, 'mediaType missing');
  if (typeof o.digest !== 'string' || !isDigest(o.digest)) fail(what, `bad digest ${JSON.stringify(o.digest)}`);
  if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0) fail(what, `bad size ${JSON.stringify(o.size)}`);
  return o;
}

export function parseManifest(bytes: Uint8Array | string): Manifest {
  const m = parseJson(bytes, 'manifest') as Manifest;
  if (!m || typeof m !== 'object') fail('manifest', 'not an object');
  if (m.schemaVersion !== 2) fail('manifest', `schemaVersion ${JSON.stringify(m.schemaVersion)}`);
  if (isIndexMediaType(m.mediaType)) fail('manifest', 'is an index');
  validateDescriptor(m.config, 'manifest config descriptor');
  if (!Array.isArray(m.layers)) fail('manifest', 'layers is not an array');
  m.layers.forEach((l, i) => validateDescriptor(l, `manifest layer ${i}`));
  return m;
}

export function parseIndex(bytes: Uint8Array | string): Index {
  const x = parseJson(bytes, 'index') as Index;
  if (!x || typeof x !== 'object') fail('index', 'not an object');
  if (x.schemaVersion !== 2) fail('index', `schemaVersion ${JSON.stringify(x.schemaVersion)}`);
  if (!Array.isArray(x.manifests)) fail('index', 'manifests is not an array');
  x.manifests.forEach((d, i) => validateDescriptor(d, `index entry ${i}`));
  return x;
}

export function parseImageConfig(bytes: Uint8Array | string): ImageConfig {
  const c = parseJson(bytes, 'image config') as ImageConfig;
  if (!c || typeof c !== 'object') fail('image config', 'not an object');
  if (!c.rootfs || c.rootfs.type !== 'layers' || !Array.isArray(c.rootfs.diff_ids)) fail('image config', 'rootfs missing or not of type layers');
  c.rootfs.diff_ids.forEach((d) => {
    if (typeof d !== 'string' || !isDigest(d)) fail('image config', `bad diff_id ${JSON.stringify(d)}`);
  });
  if (c.history !== undefined && !Array.isArray(c.history)) fail('image config', 'history is not an array');
  if (c.history?.some((h) => !h || typeof h !== 'object')) fail('image config', 'a history entry is not an object');
  const nonEmpty = (c.history ?? []).filter((h) => !h.empty_layer).length;
  if (c.history && c.history.length > 0 && nonEmpty !== c.rootfs.diff_ids.length) {
    fail('image config', `history has ${nonEmpty} non-empty entries for ${c.rootfs.diff_ids.length} layers`);
  }
  return c;
}
