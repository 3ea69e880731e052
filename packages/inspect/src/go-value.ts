// A small model of Go values, so Go templates print data the way `docker … --format` does:
// a nil []string prints `[]`, a nil map `map[]`, a struct `{a b}`, a time.Time
// `2024-01-01 00:00:00 +0000 UTC`, a time.Duration `30s`. Data is plain JSON-like JS values; a
// GoType says how to read them. Without a type, values are `interface{}` (as JSON decoded in Go).

export type GoType =
  | { k: 'string' | 'int' | 'float' | 'bool' | 'time' | 'duration' | 'number' | 'iface' | 'empty'; name?: string }
  | { k: 'slice'; elem: GoType; name?: string }
  | { k: 'map'; elem: GoType; name?: string }
  | { k: 'ptr'; elem: GoType; name?: string }
  | { k: 'struct'; fields: GoField[]; name: string; jsonEscapeHTML?: boolean };

export interface GoField {
  /** Go field name (what `.Name` in a template uses). */
  name: string;
  /** Key of the field in the JSON data (defaults to `name`). */
  json?: string;
  t: GoType;
}

/** A value with its Go type. `undefined` stands for Go's invalid reflect.Value ("<no value>"). */
export interface GoValue {
  t: GoType;
  v: unknown;
}

export const T = {
  string: { k: 'string' } as GoType,
  int: { k: 'int', name: 'int' } as GoType,
  int64: { k: 'int', name: 'int64' } as GoType,
  float: { k: 'float', name: 'float64' } as GoType,
  bool: { k: 'bool' } as GoType,
  time: { k: 'time', name: 'time.Time' } as GoType,
  duration: { k: 'duration', name: 'time.Duration' } as GoType,
  number: { k: 'number', name: 'json.Number' } as GoType,
  iface: { k: 'iface', name: 'interface {}' } as GoType,
  empty: { k: 'empty', name: 'struct {}' } as GoType,
  slice: (elem: GoType, name?: string): GoType => ({ k: 'slice', elem, name }),
  map: (elem: GoType, name?: string): GoType => ({ k: 'map', elem, name }),
  ptr: (elem: GoType): GoType => ({ k: 'ptr', elem }),
};

export function typeName(t: GoType): string {
  if (t.name) return t.name;
  switch (t.k) {
    case 'slice':
      return `[]${typeName(t.elem)}`;
    case 'map':
      return `map[string]${typeName(t.elem)}`;
    case 'ptr':
      return `*${typeName(t.elem)}`;
    default:
      return t.k;
  }
}

/** The dynamic value inside an `interface{}` holding decoded JSON (numbers as json.Number). */
export function dynamic(v: unknown): GoValue {
  if (v === null || v === undefined) return { t: T.iface, v: null };
  if (typeof v === 'string') return { t: T.string, v };
  if (typeof v === 'number') return { t: T.number, v: String(v) };
  if (typeof v === 'bigint') return { t: T.number, v: String(v) };
  if (typeof v === 'boolean') return { t: T.bool, v };
  if (Array.isArray(v)) return { t: T.slice(T.iface, '[]interface {}'), v };
  return { t: T.map(T.iface, 'map[string]interface {}'), v };
}

/** Follow interfaces to the concrete value (nil interface stays a nil iface). */
export function concrete(x: GoValue): GoValue {
  return x.t.k === 'iface' && x.v !== null && x.v !== undefined ? dynamic(x.v) : x;
}

export function isNil(x: GoValue): boolean {
  const k = x.t.k;
  return (k === 'iface' || k === 'ptr' || k === 'slice' || k === 'map') && (x.v === null || x.v === undefined);
}

/** Go's template truth: false, 0, nil, empty string/slice/map are false; structs are true. */
export function truth(x: GoValue | undefined): boolean {
  if (!x) return false;
  const c = concrete(x);
  switch (c.t.k) {
    case 'bool':
      return c.v === true;
    case 'int':
    case 'float':
    case 'duration':
      return Number(c.v) !== 0;
    case 'string':
    case 'number':
      return String(c.v).length > 0;
    case 'slice':
      return Array.isArray(c.v) && c.v.length > 0;
    case 'map':
      return !!c.v && Object.keys(c.v as object).length > 0;
    case 'ptr':
    case 'iface':
      return c.v !== null && c.v !== undefined;
    case 'time':
    case 'struct':
    case 'empty':
      return true;
  }
}

/** Go's time.Time.String(): "2006-01-02 15:04:05.999999999 -0700 MST" (zones other than UTC as offsets). */
export function goTimeString(s: unknown): string {
  const p = parseGoTime(typeof s === 'string' ? s : '');
  if (!p) return '0001-01-01 00:00:00 +0000 UTC';
  const frac = p.frac.replace(/0+$/, '');
  const zone = p.offset === 'Z' ? '+0000 UTC' : `${p.offset.replace(':', '')} ${p.offset.replace(':', '')}`;
  return `${p.date} ${p.time}${frac ? `.${frac}` : ''} ${zone}`;
}

export function parseGoTime(s: string): { date: string; time: string; frac: string; offset: string } | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) return undefined;
  return { date: m[1], time: m[2], frac: m[3] ?? '', offset: m[4].toUpperCase() === 'Z' ? 'Z' : m[4] };
}

/** Go's time.Duration.String() for nanoseconds. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(ns);
  let out: string;
  if (u < 1e9) {
    const [unit, div] = u < 1e3 ? ['ns', 1] : u < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    out = `${trimFloat(u / div)}${unit}`;
  } else {
    const h = Math.floor(u / 3600e9);
    u -= h * 3600e9;
    const m = Math.floor(u / 60e9);
    u -= m * 60e9;
    const s = `${trimFloat(u / 1e9)}s`;
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

function trimFloat(n: number): string {
  return Number(n.toFixed(9)).toString();
}

/** Go's %v of a float64 ('g' with the shortest representation, exponent when large/small). */
export function goFloat(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  const s = String(n);
  const exp = Math.abs(n) >= 1e21 || (Math.abs(n) < 1e-4 && n !== 0);
  if (!exp) return s;
  const [mant, e] = n.toExponential().split('e');
  const ev = Number(e);
  return `${mant}e${ev < 0 ? '-' : '+'}${String(Math.abs(ev)).padStart(2, '0')}`;
}

/** fmt's %v of a value. `top` is false inside containers (Go prints nested pointers differently). */
export function formatValue(x: GoValue | undefined, top = true): string {
  if (!x) return '<no value>';
  const { t, v } = x;
  switch (t.k) {
    case 'string':
    case 'number':
      return String(v ?? '');
    case 'int':
      return String(v ?? 0);
    case 'float':
      return goFloat(Number(v ?? 0));
    case 'bool':
      return v ? 'true' : 'false';
    case 'time':
      return goTimeString(v);
    case 'duration':
      return goDuration(Number(v ?? 0));
    case 'empty':
      return '{}';
    case 'iface':
      return v === null || v === undefined ? '<nil>' : formatValue(dynamic(v), top);
    case 'ptr':
      if (v === null || v === undefined) return '<nil>';
      return top ? `&${formatValue({ t: t.elem, v }, false)}` : '0xc000000000';
    case 'slice':
      return `[${((v as unknown[]) ?? []).map((e) => formatValue({ t: t.elem, v: e }, false)).join(' ')}]`;
    case 'map': {
      const o = (v ?? {}) as Record<string, unknown>;
      return `map[${Object.keys(o)
        .sort(compareGoStrings)
        .map((k) => `${k}:${formatValue({ t: t.elem, v: o[k] }, false)}`)
        .join(' ')}]`;
    }
    case 'struct': {
      const o = (v ?? {}) as Record<string, unknown>;
      return `{${t.fields.map((f) => formatValue({ t: f.t, v: o[f.json ?? f.name] }, false)).join(' ')}}`;
    }
  }
}

/** Go orders strings by bytes (UTF-8), not UTF-16 code units. */
export function compareGoStrings(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Go's encoding/json escaping (json.Marshal and the Docker API): <, >, & and U+2028/2029 as
 * \u escapes. `indent` as in JSON.stringify.
 */
export function goJson(value: unknown, indent?: number, escapeHTML = true): string {
  const s = JSON.stringify(value, null, indent) ?? 'null';
  const out = s.replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
  return escapeHTML ? out.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`) : out;
}

/** The JSON form of a typed value (what Go's json.Marshal would give for the Go value). */
export function toJsonValue(x: GoValue | undefined): unknown {
  if (!x) return null;
  const { t, v } = x;
  switch (t.k) {
    case 'int':
    case 'duration':
      return Number(v ?? 0);
    case 'float':
      return Number(v ?? 0);
    case 'number':
      return Number(v);
    case 'string':
      return v ?? '';
    case 'bool':
      return !!v;
    case 'time':
      return v ?? '0001-01-01T00:00:00Z';
    case 'empty':
      return {};
    default:
      return v ?? null;
  }
}
