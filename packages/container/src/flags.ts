// Docker's flag syntaxes, parsed without I/O: -v, --mount, --tmpfs, sizes, --security-opt.
import { posix } from 'node:path';
import { StrataError } from '@strata/errors';
import { checkVolumeName } from '@strata/volume';
import type { MountConfig } from './records';

/** Docker's sizes: `64m`, `1g`, `512k`, `100b`, `100` (bytes); 1024-based. */
export function parseBytes(v: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(v.trim());
  if (!m) throw new StrataError('USAGE', `invalid ${what} "${v}": expected a number with an optional unit (b, k, m, g)`);
  const unit = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase()]!;
  return Math.floor(Number(m[1]) * unit);
}

function absTarget(t: string, spec: string, flag: string): string {
  if (!t.startsWith('/')) throw new StrataError('USAGE', `invalid ${flag} "${spec}": the container path must be absolute`);
  return posix.normalize(t).replace(/(.)\/+$/, '$1');
}

const PROPAGATION = ['rprivate', 'private', 'rshared', 'shared', 'rslave', 'slave'];

/**
 * `-v`: `/path` (an anonymous volume), `NAME:/path[:opts]` (a named volume), `/host:/path[:opts]`
 * (a bind mount; a missing host directory is created, as Docker does for -v). Options:
 * `ro`, `rw`, `nocopy` (volumes), `z`/`Z` (SELinux labels: accepted, no effect here) and the
 * propagation modes (accepted; strata mounts are rprivate).
 */
export function parseVolumeFlag(spec: string): MountConfig {
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw new StrataError('USAGE', `invalid volume specification: '${spec}'`);
  if (parts.length === 1) return { type: 'volume', source: '', target: absTarget(parts[0], spec, 'volume'), anonymous: true };
  const [src, dst, opts = ''] = parts;
  const target = absTarget(dst, spec, 'volume');
  let readonly = false;
  let nocopy = false;
  for (const o of opts.split(',').filter(Boolean)) {
    if (o === 'ro') readonly = true;
    else if (o === 'rw') readonly = false;
    else if (o === 'nocopy') nocopy = true;
    else if (o === 'z' || o === 'Z' || PROPAGATION.includes(o) || o === 'consistent' || o === 'cached' || o === 'delegated') continue;
    else throw new StrataError('USAGE', `invalid mode: ${o}`, { hint: `in -v ${spec}: ro, rw, nocopy` });
  }
  if (src.startsWith('/')) {
    if (nocopy) throw new StrataError('USAGE', `invalid mode: nocopy`, { hint: `nocopy is for volumes, not for the bind mount ${src}` });
    return { type: 'bind', source: posix.normalize(src), target, readonly };
  }
  checkVolumeName(src);
  return { type: 'volume', source: src, target, readonly, nocopy };
}

function boolValue(v: string | undefined, key: string, spec: string): boolean {
  if (v === undefined || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new StrataError('USAGE', `invalid --mount "${spec}": ${key} must be true or false`);
}

/** `--mount type=volume|bind|tmpfs,source=…,target=…,readonly,volume-nocopy,tmpfs-size=…,tmpfs-mode=…` (Docker's csv syntax). */
export function parseMountFlag(spec: string): MountConfig {
  const kv = new Map<string, string | undefined>();
  for (const field of spec.split(',')) {
    if (!field) continue;
    const i = field.indexOf('=');
    const k = (i < 0 ? field : field.slice(0, i)).trim().toLowerCase();
    kv.set(k, i < 0 ? undefined : field.slice(i + 1));
  }
  const type = kv.get('type') ?? 'volume';
  const source = kv.get('source') ?? kv.get('src');
  const dst = kv.get('target') ?? kv.get('destination') ?? kv.get('dst');
  if (!dst) throw new StrataError('USAGE', `invalid --mount "${spec}": target is required`);
  const target = absTarget(dst, spec, '--mount');
  const known = new Set(['type', 'source', 'src', 'target', 'destination', 'dst', 'readonly', 'ro', 'consistency', 'volume-nocopy', 'volume-label', 'volume-driver', 'volume-opt', 'bind-propagation', 'bind-nonrecursive', 'tmpfs-size', 'tmpfs-mode']);
  for (const k of kv.keys()) if (!known.has(k)) throw new StrataError('USAGE', `invalid --mount "${spec}": unexpected key '${k}'`);
  const ro = kv.has('readonly') ? boolValue(kv.get('readonly'), 'readonly', spec) : kv.has('ro') ? boolValue(kv.get('ro'), 'ro', spec) : false;
  for (const k of kv.keys()) {
    const m = /^(volume|bind|tmpfs)-/.exec(k);
    if (m && m[1] !== type) throw new StrataError('USAGE', `invalid --mount "${spec}": cannot mix '${m[1]}-*' options with mount type '${type}'`);
  }
  if (type === 'bind') {
    if (!source) throw new StrataError('USAGE', `invalid --mount "${spec}": source is required for a bind mount`);
    if (!source.startsWith('/')) throw new StrataError('USAGE', `invalid --mount "${spec}": a bind source must be an absolute path`);
    const prop = kv.get('bind-propagation');
    if (prop !== undefined && !PROPAGATION.includes(prop)) throw new StrataError('USAGE', `invalid --mount "${spec}": bind-propagation ${prop}`);
    return { type: 'bind', source: posix.normalize(source), target, readonly: ro };
  }
  if (type === 'volume') {
    if (kv.has('volume-driver') && kv.get('volume-driver') !== 'local') throw new StrataError('UNSUPPORTED', `--mount ${spec}: only the local volume driver exists here`);
    if (kv.has('volume-opt')) throw new StrataError('UNSUPPORTED', `--mount ${spec}: volume driver options are not supported`);
    const nocopy = kv.has('volume-nocopy') ? boolValue(kv.get('volume-nocopy'), 'volume-nocopy', spec) : false;
    if (!source) return { type: 'volume', source: '', target, readonly: ro, nocopy, anonymous: true };
    checkVolumeName(source);
    return { type: 'volume', source, target, readonly: ro, nocopy };
  }
  if (type === 'tmpfs') {
    if (source) throw new StrataError('USAGE', `invalid --mount "${spec}": a tmpfs has no source`);
    const m: MountConfig = { type: 'tmpfs', target, readonly: ro };
    const size = kv.get('tmpfs-size');
    if (size !== undefined) m.size = parseBytes(size, 'tmpfs-size');
    const mode = kv.get('tmpfs-mode');
    if (mode !== undefined) {
      if (!/^[0-7]{1,4}$/.test(mode)) throw new StrataError('USAGE', `invalid --mount "${spec}": tmpfs-mode must be octal`);
      m.mode = parseInt(mode, 8);
    }
    return m;
  }
  throw new StrataError('USAGE', `invalid --mount "${spec}": type must be volume, bind or tmpfs`);
}

/** `--tmpfs /path[:size=64m,mode=1777,…]` (other mount options: accepted when harmless). */
export function parseTmpfsFlag(spec: string): MountConfig {
  const i = spec.indexOf(':');
  const target = absTarget(i < 0 ? spec : spec.slice(0, i), spec, '--tmpfs');
  const m: MountConfig = { type: 'tmpfs', target };
  for (const o of (i < 0 ? '' : spec.slice(i + 1)).split(',').filter(Boolean)) {
    const [k, v] = o.split('=');
    if (k === 'size' && v !== undefined) m.size = parseBytes(v, 'tmpfs size');
    else if (k === 'mode' && v !== undefined && /^[0-7]{1,4}$/.test(v)) m.mode = parseInt(v, 8);
    else if (k === 'ro') m.readonly = true;
    else if (['rw', 'exec', 'noexec', 'suid', 'nosuid', 'dev', 'nodev', 'atime', 'noatime', 'relatime'].includes(k)) continue;
    else throw new StrataError('USAGE', `invalid --tmpfs option "${o}" in ${spec}: size=N[k|m|g], mode=OCTAL`);
  }
  return m;
}

/** `--volumes-from CONTAINER[:ro|:rw]`. */
export function parseVolumesFrom(spec: string): { container: string; mode?: 'ro' | 'rw' } {
  const [container, mode, extra] = spec.split(':');
  if (!container || extra !== undefined || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
    throw new StrataError('USAGE', `invalid --volumes-from "${spec}": CONTAINER[:ro|:rw]`);
  }
  return { container, mode: mode as 'ro' | 'rw' | undefined };
}
