import { StrataError } from '@strata/errors';
import { parseGoBool, suggestion } from './go-text';
import type { Mount } from './types';

const MOUNT_TYPES = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'] as const;
const ALL_KEYS = [
  'type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'required', 'size', 'mode',
  'uid', 'gid', 'src', 'dst', 'destination', 'ro', 'rw', 'readwrite', 'env',
];

/**
 * Parse one `RUN --mount=` value (CSV `k=v,...`) with BuildKit's validation and defaults
 * (instructions/commands_runmount.go, dockerfile2llb/convert_runmount.go).
 * With `expander`, each value is expanded first (dispatch time). Without, values are taken as
 * written, except that fields holding a `$` are left unvalidated (BuildKit defers them to
 * dispatch) — re-parse with an expander then.
 * `sshIndex` numbers the default ssh target `/run/buildkit/ssh_agent.<n>`.
 * Throws StrataError DOCKERFILE_SYNTAX (message without line).
 */
export function parseMount(raw: string, expander?: (word: string) => string, sshIndex = 0): Mount {
  try {
    return parse(raw, expander, sshIndex);
  } catch (err) {
    if (err instanceof StrataError) throw err;
    throw new StrataError('DOCKERFILE_SYNTAX', (err as Error).message);
  }
}

function parse(raw: string, expander: ((word: string) => string) | undefined, sshIndex: number): Mount {
  const fields = readCsvRecord(raw);
  let type: Mount['type'] = 'bind';
  for (const f of fields) {
    const [key, value] = cut(f.trim());
    if (key.toLowerCase() !== 'type') continue;
    const t = (value ?? '').toLowerCase();
    if (!(MOUNT_TYPES as readonly string[]).includes(t)) {
      throw new Error(`unsupported mount type "${value ?? ''}"${suggestion(value ?? '', MOUNT_TYPES, true)}`);
    }
    type = t as Mount['type'];
  }
  const m: Mount = { type, readonly: false, required: false, raw };
  let roAuto = true;
  let sharing: string | undefined;
  const unexpected = (key: string): Error => new Error(`unexpected key '${key}' for mount type '${type}'`);
  const bool = (key: string, v: string): boolean => {
    const b = parseGoBool(v);
    if (b === undefined) throw new Error(`invalid value for ${key}: ${v}`);
    return b;
  };
  const uint = (key: string, v: string, radix: 8 | 10): number => {
    const ok = radix === 8 ? /^[0-7]+$/.test(v) : /^[0-9]+$/.test(v);
    const n = ok ? parseInt(v, radix) : NaN;
    if (!ok || n > 0xffffffff) throw new Error(`invalid value ${v} for ${key}`);
    return n;
  };
  for (const f of fields) {
    const field = f.trim();
    const [k, v] = cut(field);
    const key = k.toLowerCase();
    if (v === undefined) {
      switch (key) {
        case 'readonly':
        case 'ro':
          m.readonly = true;
          roAuto = false;
          continue;
        case 'readwrite':
        case 'rw':
          m.readonly = false;
          roAuto = false;
          continue;
        case 'required':
          if (type === 'secret' || type === 'ssh') {
            m.required = true;
            continue;
          }
          throw unexpected(key);
        default:
          throw new Error(`invalid field '${field}' must be a key=value pair`);
      }
    }
    let value = v;
    if (key === 'from' && !expander) {
      const i = value.indexOf('$');
      if (i !== -1 && i !== value.length - 1) {
        throw new Error(`'${value}' doesn't support variable expansion, define alias stage instead`);
      }
    }
    if (expander) value = expander(value);
    const deferred = !expander && value.includes('$');
    switch (key) {
      case 'type':
        break;
      case 'from':
        m.from = value;
        break;
      case 'source':
      case 'src':
        m.source = value;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.target = value;
        break;
      case 'readonly':
      case 'ro':
        if (!deferred) m.readonly = bool(key, value);
        roAuto = false;
        break;
      case 'readwrite':
      case 'rw':
        if (!deferred) m.readonly = !bool(key, value);
        roAuto = false;
        break;
      case 'required':
        if (type !== 'secret' && type !== 'ssh') throw unexpected(key);
        if (!deferred) m.required = bool(key, value);
        break;
      case 'size':
        if (type !== 'tmpfs') throw unexpected(key);
        if (!deferred) m.size = ramInBytes(key, value);
        break;
      case 'id':
        m.id = value;
        break;
      case 'sharing': {
        if (type !== 'cache') throw unexpected(key);
        const s = value.toLowerCase();
        if (!deferred && s !== 'shared' && s !== 'private' && s !== 'locked') {
          throw new Error(`unsupported sharing value "${value}"`);
        }
        sharing = s;
        break;
      }
      case 'mode':
        if (!deferred) m.mode = uint('mode', value, 8);
        break;
      case 'uid':
        if (!deferred) m.uid = uint('uid', value, 10);
        break;
      case 'gid':
        if (!deferred) m.gid = uint('gid', value, 10);
        break;
      case 'env':
        m.env = value;
        break;
      default:
        throw new Error(`unexpected key '${key}' in '${field}'${suggestion(key, ALL_KEYS, true)}`);
    }
  }
  const fileInfo = type === 'cache' || type === 'secret' || type === 'ssh';
  if (!fileInfo) {
    for (const k of ['mode', 'uid', 'gid'] as const) {
      if (m[k] !== undefined) throw new Error(`${k} not allowed for "${type}" type mounts`);
    }
  }
  if (roAuto) m.readonly = !(type === 'cache' || type === 'tmpfs');
  if (sharing !== undefined && type !== 'cache') throw new Error(`invalid cache sharing set for ${type} mount`);
  if (type === 'secret') {
    if (m.from !== undefined && m.from !== '') throw new Error('secret mount should not have a from');
    if (m.source === undefined && m.target === undefined && m.id === undefined) {
      throw new Error('invalid secret mount. one of source, target required');
    }
    if (m.source && m.id) throw new Error("both source and id can't be set");
  }
  applyDefaults(m, sharing, sshIndex);
  return m;
}

/** Dispatch-time defaults (dockerfile2llb/convert_runmount.go, convert_secrets.go, convert_ssh.go). */
function applyDefaults(m: Mount, sharing: string | undefined, sshIndex: number): void {
  switch (m.type) {
    case 'cache':
      if (!m.id) m.id = m.target;
      m.sharing = (sharing ?? 'shared') as Mount['sharing'];
      m.mode ??= 0o755;
      m.uid ??= 0;
      m.gid ??= 0;
      break;
    case 'secret': {
      const id = m.source || m.id || (m.target ? basename(m.target) : undefined);
      m.id = id;
      if (!m.target && m.env === undefined && id) m.target = `/run/secrets/${basename(id)}`;
      m.mode ??= 0o400;
      m.uid ??= 0;
      m.gid ??= 0;
      break;
    }
    case 'ssh':
      if (!m.id) m.id = 'default';
      if (!m.target) m.target = `/run/buildkit/ssh_agent.${sshIndex}`;
      m.mode ??= 0o600;
      m.uid ??= 0;
      m.gid ??= 0;
      break;
    default:
      break;
  }
}

function basename(p: string): string {
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return p === '' ? '.' : '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

function cut(s: string): [string, string | undefined] {
  const i = s.indexOf('=');
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

/** docker/go-units `RAMInBytes`: binary multiples, optional `i`/`b` suffix. */
function ramInBytes(key: string, v: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(v);
  if (!m) throw new Error(`invalid value for ${key}: ${v}`);
  const mult: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  const unit = m[2] ? mult[m[2].toLowerCase()]! : 1;
  return Math.floor(Number(m[1]) * unit);
}

/** One CSV record as Go `encoding/csv` reads it (`"…"` fields, `""` escapes, no bare quotes). */
function readCsvRecord(s: string): string[] {
  if (s === '') throw new Error('failed to parse csv mounts: EOF');
  const fields: string[] = [];
  let i = 0;
  const bad = (col: number, what: string): Error =>
    new Error(`failed to parse csv mounts: parse error on line 1, column ${col}: ${what}`);
  for (;;) {
    if (s[i] === '"') {
      let field = '';
      i++;
      for (;;) {
        if (i >= s.length) throw bad(i + 1, 'extraneous or missing " in quoted-field');
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += s[i++];
      }
      fields.push(field);
      if (i >= s.length) return fields;
      if (s[i] !== ',') throw bad(i + 1, 'extraneous or missing " in quoted-field');
      i++;
    } else {
      const end = s.indexOf(',', i);
      const field = end < 0 ? s.slice(i) : s.slice(i, end);
      const q = field.indexOf('"');
      if (q >= 0) throw bad(i + q + 1, 'bare " in non-quoted-field');
      fields.push(field);
      if (end < 0) return fields;
      i = end + 1;
    }
  }
}
