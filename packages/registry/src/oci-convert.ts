import { MediaType, parseManifest, sha256, type Descriptor, type Digest } from '@strata/oci';

/**
 * Docker v2 schema 2 → OCI, byte for byte as skopeo (containers/image) writes it into an OCI
 * layout: the config is decoded into the OCI image struct and encoded again by Go's encoding/json
 * (its field order, `omitempty`, sorted map keys, HTML-safe escapes, RFC 3339 times), so Docker-only
 * fields drop out; the manifest gets the OCI media types. Layer blobs stay byte for byte.
 */

/** Go's json.Marshal of a string (HTML-escaped, as encoding/json does by default). */
function goString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** time.Time's RFC3339Nano: fraction without trailing zeros, `Z` for a zero offset. */
export function goTime(s: string): string | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return undefined;
  const frac = (m[2] ?? '').slice(0, 9).replace(/0+$/, '');
  const zone = m[3] === 'z' || m[3] === 'Z' || m[3] === '+00:00' || m[3] === '-00:00' ? 'Z' : m[3];
  return `${m[1]}${frac ? `.${frac}` : ''}${zone}`;
}

type Field = [key: string, json: string | undefined];

function obj(fields: Field[]): string {
  return `{${fields.filter((f) => f[1] !== undefined).map(([k, v]) => `${goString(k)}:${v}`).join(',')}}`;
}

const str = (v: unknown, omitEmpty = true) => (typeof v === 'string' && (v !== '' || !omitEmpty) ? goString(v) : omitEmpty ? undefined : '""');
const strList = (v: unknown) => (Array.isArray(v) && v.length ? `[${v.map((x) => goString(String(x))).join(',')}]` : undefined);
const set = (v: unknown) => {
  if (!v || typeof v !== 'object') return undefined;
  const keys = Object.keys(v).sort();
  return keys.length ? `{${keys.map((k) => `${goString(k)}:{}`).join(',')}}` : undefined;
};
const strMap = (v: unknown) => {
  if (!v || typeof v !== 'object') return undefined;
  const keys = Object.keys(v).sort();
  return keys.length ? `{${keys.map((k) => `${goString(k)}:${goString(String((v as Record<string, unknown>)[k]))}`).join(',')}}` : undefined;
};
const time = (v: unknown) => (typeof v === 'string' ? ((t) => (t ? goString(t) : undefined))(goTime(v)) : undefined);

/** The OCI config skopeo writes for a Docker config (image-spec v1.1.0-rc2's Image struct). */
export function dockerConfigToOci(raw: Uint8Array): Buffer {
  const c = JSON.parse(Buffer.from(raw).toString('utf8')) as Record<string, unknown>;
  const rc = (c.config ?? {}) as Record<string, unknown>;
  const rootfs = (c.rootfs ?? {}) as { type?: string; diff_ids?: string[] };
  const history = Array.isArray(c.history) ? (c.history as Array<Record<string, unknown>>) : [];
  const config = obj([
    ['User', str(rc.User)],
    ['ExposedPorts', set(rc.ExposedPorts)],
    ['Env', strList(rc.Env)],
    ['Entrypoint', strList(rc.Entrypoint)],
    ['Cmd', strList(rc.Cmd)],
    ['Volumes', set(rc.Volumes)],
    ['WorkingDir', str(rc.WorkingDir)],
    ['Labels', strMap(rc.Labels)],
    ['StopSignal', str(rc.StopSignal)],
  ]);
  const json = obj([
    ['created', time(c.created)],
    ['author', str(c.author)],
    ['architecture', str(c.architecture, false)],
    ['variant', str(c.variant)],
    ['os', str(c.os, false)],
    ['os.version', str(c['os.version'])],
    ['os.features', strList(c['os.features'])],
    ['config', config],
    ['rootfs', obj([['type', str(rootfs.type, false)], ['diff_ids', Array.isArray(rootfs.diff_ids) ? `[${rootfs.diff_ids.map((d) => goString(d)).join(',')}]` : 'null']])],
    [
      'history',
      history.length
        ? `[${history
            .map((h) =>
              obj([
                ['created', time(h.created)],
                ['created_by', str(h.created_by)],
                ['author', str(h.author)],
                ['comment', str(h.comment)],
                ['empty_layer', h.empty_layer === true ? 'true' : undefined],
              ]),
            )
            .join(',')}]`
        : undefined,
    ],
  ]);
  return Buffer.from(json);
}

/** The OCI manifest for a Docker one whose config became `config` (skopeo's field order). */
export function dockerManifestToOci(rawManifest: Uint8Array, config: { digest: Digest; size: number }): Buffer {
  const doc = parseManifest(rawManifest);
  const layerType = (t: string) =>
    t === MediaType.DOCKER_LAYER_GZIP ? MediaType.OCI_LAYER_GZIP : t === MediaType.DOCKER_LAYER ? MediaType.OCI_LAYER : t === MediaType.DOCKER_FOREIGN_LAYER ? MediaType.OCI_LAYER_ND_GZIP : t;
  const desc = (d: Descriptor, mediaType: string) =>
    obj([
      ['mediaType', goString(mediaType)],
      ['digest', goString(d.digest)],
      ['size', String(d.size)],
      ['urls', strList(d.urls)],
      ['annotations', strMap(d.annotations)],
    ]);
  return Buffer.from(
    obj([
      ['schemaVersion', '2'],
      ['mediaType', goString(MediaType.OCI_MANIFEST)],
      ['config', desc({ ...doc.config, digest: config.digest, size: config.size }, MediaType.OCI_CONFIG)],
      ['layers', `[${doc.layers.map((l) => desc(l, layerType(l.mediaType))).join(',')}]`],
      ['annotations', strMap(doc.annotations)],
    ]),
  );
}

export function convertedConfig(raw: Uint8Array): { bytes: Buffer; digest: Digest; size: number } {
  const bytes = dockerConfigToOci(raw);
  return { bytes, digest: sha256(bytes), size: bytes.length };
}
