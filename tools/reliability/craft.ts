// Hostile inputs for the fuzzers: raw tar headers with any field bogus (not strata's writer,
// which only writes valid tars), and the mutations applied to real inputs (bytes, text, JSON).
import fc from 'fast-check';

/** One raw tar header: every field as written, so sizes, types and checksums can lie. */
export interface RawHeader {
  name: string;
  type: string;
  size?: number;
  /** The size field as raw bytes instead (`'77777777777x'`, base-256, spaces). */
  sizeField?: Buffer;
  mode?: number;
  linkname?: string;
  prefix?: string;
  uid?: number;
  gid?: number;
  mtime?: number;
  /** 'ustar' (POSIX), 'gnu' ("ustar  \0") or 'v7' (no magic). */
  magic?: 'ustar' | 'gnu' | 'v7';
  /** Write a wrong checksum. */
  badChecksum?: boolean;
  devmajor?: number;
  devminor?: number;
}

function put(b: Buffer, off: number, len: number, s: string | Buffer): void {
  const v = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  v.copy(b, off, 0, Math.min(len, v.length));
}

function octal(n: number, len: number): string {
  return `${Math.max(0, Math.floor(n)).toString(8).padStart(len - 1, '0').slice(-(len - 1))}\0`;
}

/** A 512-byte header block with a correct checksum unless asked otherwise. */
export function header(h: RawHeader): Buffer {
  const b = Buffer.alloc(512);
  put(b, 0, 100, h.name);
  put(b, 100, 8, octal(h.mode ?? 0o644, 8));
  put(b, 108, 8, octal(h.uid ?? 0, 8));
  put(b, 116, 8, octal(h.gid ?? 0, 8));
  if (h.sizeField) put(b, 124, 12, h.sizeField);
  else put(b, 124, 12, octal(h.size ?? 0, 12));
  put(b, 136, 12, octal(h.mtime ?? 1_700_000_000, 12));
  b[156] = h.type.charCodeAt(0) & 0xff;
  put(b, 157, 100, h.linkname ?? '');
  const magic = h.magic ?? 'ustar';
  if (magic === 'ustar') put(b, 257, 8, Buffer.from('ustar\x0000', 'latin1'));
  else if (magic === 'gnu') put(b, 257, 8, Buffer.from('ustar  \x00', 'latin1'));
  put(b, 329, 8, octal(h.devmajor ?? 0, 8));
  put(b, 337, 8, octal(h.devminor ?? 0, 8));
  if (h.prefix !== undefined && magic === 'ustar') put(b, 345, 155, h.prefix);
  fixChecksum(b, 0);
  if (h.badChecksum) b[148] = b[148] === 0x30 ? 0x31 : 0x30;
  return b;
}

/** Recompute the checksum of the header at `off` (after a mutation), so the reader looks further. */
export function fixChecksum(b: Buffer, off: number): void {
  if (off + 512 > b.length) return;
  b.fill(0x20, off + 148, off + 156);
  let sum = 0;
  for (let i = off; i < off + 512; i++) sum += b[i];
  Buffer.from(`${sum.toString(8).padStart(6, '0')}\0 `, 'latin1').copy(b, off + 148);
}

const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);

/** A member: a header and its (padded) content. */
export function member(h: RawHeader, content: Buffer | string = ''): Buffer {
  const data = typeof content === 'string' ? Buffer.from(content) : content;
  return Buffer.concat([header({ size: data.length, ...h }), data, pad(data.length)]);
}

/** A PAX extended header (`x`, or `g` for global) carrying `records` (`<len> key=value\n`, or raw text). */
export function pax(records: Record<string, string | Buffer> | string, global = false): Buffer {
  let body: Buffer;
  if (typeof records === 'string') body = Buffer.from(records);
  else {
    const parts: Buffer[] = [];
    for (const [k, v] of Object.entries(records)) {
      const kv = Buffer.concat([Buffer.from(` ${k}=`), typeof v === 'string' ? Buffer.from(v) : v, Buffer.from('\n')]);
      let len = kv.length + 1;
      while (String(len).length + kv.length !== len) len = String(len).length + kv.length;
      parts.push(Buffer.concat([Buffer.from(String(len)), kv]));
    }
    body = Buffer.concat(parts);
  }
  return member({ name: 'PaxHeaders/x', type: global ? 'g' : 'x' }, body);
}

/** A GNU long name (`L`) or long link (`K`) record. */
export function gnuLong(kind: 'L' | 'K', value: string): Buffer {
  return member({ name: '././@LongLink', type: kind, magic: 'gnu' }, `${value}\0`);
}

export const END = Buffer.alloc(1024);

// ---------------------------------------------------------------------------------------------
// Mutations of real inputs.

/** Bytes that make parsers take odd branches. */
const INTERESTING_BYTES = [0x00, 0x20, 0x2f, 0x2e, 0x0a, 0x0d, 0x30, 0x37, 0x38, 0x7f, 0x80, 0xff, 0x22, 0x5c, 0x3d];

type ByteMutation =
  | { k: 'flip'; at: number; bit: number }
  | { k: 'set'; at: number; v: number }
  | { k: 'field'; block: number; field: number; v: string }
  | { k: 'truncate'; at: number }
  | { k: 'dupBlock'; from: number; to: number }
  | { k: 'dropBlock'; at: number }
  | { k: 'insert'; at: number; bytes: number[] };

/** Header fields (offset, length) a mutation rewrites with a plausible but wrong value. */
const FIELDS: Array<[number, number]> = [[0, 100], [100, 8], [108, 8], [116, 8], [124, 12], [136, 12], [156, 1], [157, 100], [257, 8], [329, 8], [337, 8], [345, 155]];
const FIELD_VALUES = [
  '../../outside/x', '/etc/passwd', '.', '..', '', 'a/../../b', '.wh..wh..opq', '.wh.x', 'x'.repeat(100), '77777777777', '7777777777777',
  '99999999', '-1', ' 0 ', '\u0080\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff', '\u00ff\u00ff\u00ff\u00ff', '0', '1', '2', '3', '4', '5', '6', '7', 'x', 'g', 'L', 'K', 'S', 'V', 'D',
  'ustar\u000000', 'ustar  \u0000', 'a\u0000b', '00000001000',
];

const byteMutation = (len: number): fc.Arbitrary<ByteMutation> => {
  const at = fc.nat(Math.max(0, len - 1));
  const block = fc.nat(Math.max(0, Math.ceil(len / 512) - 1));
  return fc.oneof(
    { weight: 2, arbitrary: fc.record({ k: fc.constant('flip' as const), at, bit: fc.nat(7) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('set' as const), at, v: fc.oneof(fc.constantFrom(...INTERESTING_BYTES), fc.nat(255)) }) },
    { weight: 5, arbitrary: fc.record({ k: fc.constant('field' as const), block, field: fc.nat(FIELDS.length - 1), v: fc.oneof(fc.constantFrom(...FIELD_VALUES), fc.string({ maxLength: 12 })) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('truncate' as const), at }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('dupBlock' as const), from: block, to: block }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('dropBlock' as const), at: block }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('insert' as const), at, bytes: fc.array(fc.nat(255), { maxLength: 600 }) }) },
  );
};

function applyByteMutation(b: Buffer, m: ByteMutation): Buffer {
  switch (m.k) {
    case 'flip': {
      if (m.at >= b.length) return b;
      const c = Buffer.from(b);
      c[m.at] ^= 1 << m.bit;
      return c;
    }
    case 'set': {
      if (m.at >= b.length) return b;
      const c = Buffer.from(b);
      c[m.at] = m.v;
      return c;
    }
    case 'field': {
      const off = m.block * 512;
      if (off + 512 > b.length) return b;
      const c = Buffer.from(b);
      const [fo, fl] = FIELDS[m.field];
      c.fill(0, off + fo, off + fo + fl);
      Buffer.from(m.v, 'latin1').copy(c, off + fo, 0, fl);
      fixChecksum(c, off);
      return c;
    }
    case 'truncate':
      return b.subarray(0, m.at);
    case 'dupBlock': {
      const blk = b.subarray(m.from * 512, m.from * 512 + 512);
      return Buffer.concat([b.subarray(0, m.to * 512), blk, b.subarray(m.to * 512)]);
    }
    case 'dropBlock':
      return Buffer.concat([b.subarray(0, m.at * 512), b.subarray(m.at * 512 + 512)]);
    case 'insert':
      return Buffer.concat([b.subarray(0, m.at), Buffer.from(m.bytes), b.subarray(m.at)]);
  }
}

/** A real tar (or other binary input) with 1–6 mutations, header fields rewritten with their checksum fixed. */
export function mutatedBytes(seeds: Buffer[]): fc.Arbitrary<Buffer> {
  return fc
    .nat(seeds.length - 1)
    .chain((i) => fc.tuple(fc.constant(seeds[i]), fc.array(byteMutation(seeds[i].length), { minLength: 1, maxLength: 6 })))
    .map(([seed, ms]) => ms.reduce(applyByteMutation, seed));
}

const TEXT_FRAGMENTS = [
  '\n', '\r\n', '\r', '\t', ' ', '\\', '\\\n', '"', "'", '`', '$', '${', '}', '{{', '}}', '(', ')', '[', ']', '#', '!', '*', '**', '?', '/', '..', '\0', '\u001b[31m',
  '\uFEFF', '\u202e', 'é', '\uD800', '<<EOF', 'EOF', '=', ',', ':', '@', '%', '-', '--', '\\\\', '9'.repeat(30), 'a'.repeat(300),
];

type TextMutation = { k: 'insert' | 'replace' | 'delete' | 'dup'; at: number; len: number; s: string };

/** A real text input (a Dockerfile, .dockerignore, a template) with 1–8 edits. */
export function mutatedText(seeds: string[], fragments: string[] = []): fc.Arbitrary<string> {
  const frag = fc.oneof(fc.constantFrom(...TEXT_FRAGMENTS, ...fragments), fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 4 }));
  return fc
    .nat(seeds.length - 1)
    .chain((i) =>
      fc.tuple(
        fc.constant(seeds[i]),
        fc.array(
          fc.record({ k: fc.constantFrom('insert', 'replace', 'delete', 'dup'), at: fc.nat(Math.max(0, seeds[i].length)), len: fc.nat(40), s: frag }) as fc.Arbitrary<TextMutation>,
          { minLength: 1, maxLength: 8 },
        ),
      ),
    )
    .map(([seed, ms]) =>
      ms.reduce((t, m) => {
        const at = Math.min(m.at, t.length);
        if (m.k === 'insert') return t.slice(0, at) + m.s + t.slice(at);
        if (m.k === 'replace') return t.slice(0, at) + m.s + t.slice(at + m.len);
        if (m.k === 'delete') return t.slice(0, at) + t.slice(at + m.len);
        return t.slice(0, at) + t.slice(at, at + m.len).repeat(3) + t.slice(at);
      }, seed),
    );
}

/** JSON values that break assumptions about a document's fields. */
export const HOSTILE_JSON: unknown[] = [
  null, true, 0, -1, 1.5, 1e308, -0, 2 ** 53 + 2, '', 'x', '../../x', '/etc/passwd', 'sha256:', `sha256:${'0'.repeat(64)}`, `sha256:${'A'.repeat(64)}`, [], [null], {}, { a: null },
  '\n', 'a\u0000b', '\u001b[2J', 'x'.repeat(5000), [[[[[]]]]], { length: 1e9 }, { __proto__: { x: 1 } }, { constructor: 1 }, { toString: 1 }, { then: 1 },
];

type JsonMutation = { path: number[]; k: 'set' | 'delete' | 'wrap' | 'dup'; v: unknown };

function mutateAt(doc: unknown, path: number[], m: JsonMutation): unknown {
  if (path.length === 0 || doc === null || typeof doc !== 'object') {
    if (m.k === 'set') return m.v;
    if (m.k === 'wrap') return [doc];
    if (m.k === 'dup') return Array.isArray(doc) ? [...doc, ...doc] : doc;
    return undefined;
  }
  const keys = Array.isArray(doc) ? doc.map((_, i) => i) : Object.keys(doc);
  if (keys.length === 0) return m.k === 'set' ? m.v : doc;
  const key = keys[path[0] % keys.length];
  const copy = (Array.isArray(doc) ? [...doc] : { ...(doc as Record<string, unknown>) }) as Record<string | number, unknown>;
  const next = mutateAt((doc as Record<string | number, unknown>)[key], path.slice(1), m);
  if (next === undefined) {
    if (Array.isArray(copy)) (copy as unknown[]).splice(key as number, 1);
    else delete copy[key];
  } else copy[key] = next;
  return copy;
}

/** A real JSON document (a manifest, an index, a config) with 1–4 fields replaced, removed, wrapped or duplicated. */
export function mutatedJson(seeds: unknown[]): fc.Arbitrary<unknown> {
  const value = fc.oneof(fc.constantFrom(...HOSTILE_JSON), fc.jsonValue({ maxDepth: 2 }));
  const mutation = fc.record({
    path: fc.array(fc.nat(20), { minLength: 0, maxLength: 5 }),
    k: fc.constantFrom('set', 'set', 'delete', 'wrap', 'dup'),
    v: value,
  }) as fc.Arbitrary<JsonMutation>;
  return fc
    .tuple(fc.nat(seeds.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }))
    .map(([i, ms]) => ms.reduce((d, m) => mutateAt(d, m.path, m) ?? null, seeds[i]));
}

/** JSON text: a mutated document, sometimes with its text damaged too. */
export function mutatedJsonText(seeds: unknown[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: mutatedJson(seeds).map((d) => JSON.stringify(d) ?? 'null') },
    { weight: 1, arbitrary: mutatedText(seeds.map((s) => JSON.stringify(s))) },
  );
}
