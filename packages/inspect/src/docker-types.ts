// The Go types behind `docker image inspect` (Docker 20.10's types.ImageInspect and
// container.Config), as data: field order, JSON names, omitempty. They drive both the JSON
// (marshalled the way Go's encoding/json does) and `--format` templates (printed as Go prints).
import { T, type GoField, type GoType } from './go-value';

export interface FieldSpec extends GoField {
  omitempty?: boolean;
  /** strslice.StrSlice: JSON accepts a string or an array of strings. */
  strslice?: boolean;
}

const f = (name: string, t: GoType, more: Partial<FieldSpec> = {}): FieldSpec => ({ name, t, ...more });
const strings = T.slice(T.string);
const stringMap = T.map(T.string, 'map[string]string');
const set = (name: string) => T.map(T.empty, name);

export const HEALTH_CONFIG: GoType & { fields: FieldSpec[] } = {
  k: 'struct',
  name: 'container.HealthConfig',
  fields: [
    f('Test', strings, { omitempty: true }),
    f('Interval', T.duration, { omitempty: true }),
    f('Timeout', T.duration, { omitempty: true }),
    f('StartPeriod', T.duration, { omitempty: true }),
    f('Retries', T.int, { omitempty: true }),
  ],
};

export const CONTAINER_CONFIG: GoType & { fields: FieldSpec[] } = {
  k: 'struct',
  name: 'container.Config',
  fields: [
    f('Hostname', T.string),
    f('Domainname', T.string),
    f('User', T.string),
    f('AttachStdin', T.bool),
    f('AttachStdout', T.bool),
    f('AttachStderr', T.bool),
    f('ExposedPorts', set('nat.PortSet'), { omitempty: true }),
    f('Tty', T.bool),
    f('OpenStdin', T.bool),
    f('StdinOnce', T.bool),
    f('Env', strings),
    f('Cmd', T.slice(T.string, 'strslice.StrSlice'), { strslice: true }),
    f('Healthcheck', T.ptr(HEALTH_CONFIG), { omitempty: true }),
    f('ArgsEscaped', T.bool, { omitempty: true }),
    f('Image', T.string),
    f('Volumes', set('map[string]struct {}')),
    f('WorkingDir', T.string),
    f('Entrypoint', T.slice(T.string, 'strslice.StrSlice'), { strslice: true }),
    f('NetworkDisabled', T.bool, { omitempty: true }),
    f('MacAddress', T.string, { omitempty: true }),
    f('OnBuild', strings),
    f('Labels', stringMap),
    f('StopSignal', T.string, { omitempty: true }),
    f('StopTimeout', T.ptr(T.int), { omitempty: true }),
    f('Shell', T.slice(T.string, 'strslice.StrSlice'), { omitempty: true, strslice: true }),
  ],
};

export const IMAGE_INSPECT: GoType & { fields: FieldSpec[] } = {
  k: 'struct',
  name: 'types.ImageInspect',
  fields: [
    f('ID', T.string, { json: 'Id' }),
    f('RepoTags', strings),
    f('RepoDigests', strings),
    f('Parent', T.string),
    f('Comment', T.string),
    f('Created', T.string),
    f('Container', T.string),
    f('ContainerConfig', T.ptr(CONTAINER_CONFIG)),
    f('DockerVersion', T.string),
    f('Author', T.string),
    f('Config', T.ptr(CONTAINER_CONFIG)),
    f('Architecture', T.string),
    f('Variant', T.string, { omitempty: true }),
    f('Os', T.string),
    f('OsVersion', T.string, { omitempty: true }),
    f('Size', T.int64),
    f('VirtualSize', T.int64),
    f('GraphDriver', { k: 'struct', name: 'types.GraphDriverData', fields: [f('Data', stringMap), f('Name', T.string)] }),
    f('RootFS', {
      k: 'struct',
      name: 'types.RootFS',
      fields: [f('Type', T.string), f('Layers', strings, { omitempty: true }), f('BaseLayer', T.string, { omitempty: true })],
    }),
    f('Metadata', { k: 'struct', name: 'types.ImageMetadata', fields: [f('LastTagTime', T.time)] }),
  ],
};

/**
 * Decode `input` into the Go struct `type` and marshal it back, as Go's encoding/json would:
 * unknown keys dropped, keys matched case-insensitively (exact match first), zero values filled
 * in, omitempty fields left out when empty, values of the wrong JSON type read as zero.
 */
export function goStructJson(type: GoType & { fields: FieldSpec[] }, input: unknown): Record<string, unknown> {
  const src = input && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
  const keys = Object.keys(src);
  const out: Record<string, unknown> = {};
  for (const field of type.fields) {
    const name = field.json ?? field.name;
    const key = keys.includes(name) ? name : keys.find((k) => k.toLowerCase() === name.toLowerCase());
    const value = decode(field, key === undefined ? undefined : src[key]);
    if (field.omitempty && isEmpty(value)) continue;
    out[name] = value;
  }
  return out;
}

function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v as object).length === 0;
  return false;
}

function decode(field: FieldSpec, v: unknown): unknown {
  return decodeType(field.t, v, field.strslice);
}

function decodeType(t: GoType, v: unknown, strslice = false): unknown {
  switch (t.k) {
    case 'string':
      return typeof v === 'string' ? v : '';
    case 'bool':
      return typeof v === 'boolean' ? v : false;
    case 'int':
    case 'duration':
    case 'float':
      return typeof v === 'number' ? v : 0;
    case 'slice':
      if (strslice && typeof v === 'string') return [v];
      return Array.isArray(v) ? v.map((e) => decodeType(t.elem, e)) : null;
    case 'map':
      if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
      return Object.fromEntries(Object.entries(v as object).map(([k, e]) => [k, t.elem.k === 'empty' ? {} : decodeType(t.elem, e)]));
    case 'ptr':
      if (v === null || v === undefined) return null;
      if (t.elem.k === 'struct') return goStructJson(t.elem as GoType & { fields: FieldSpec[] }, v);
      return decodeType(t.elem, v);
    case 'struct':
      return goStructJson(t as GoType & { fields: FieldSpec[] }, v);
    default:
      return v ?? null;
  }
}
