import { StrataError } from '@strata/errors';

export interface Filter {
  key: string;
  value: string;
  /** `key!=value` */
  negate: boolean;
}

/** Parse `--filter key=value` / `key!=value` arguments, checking keys against `allowed`. */
export function parseFilters(args: string[], allowed: string[]): Filter[] {
  return args.map((a) => {
    const m = /^([a-z_.]+)(!?=)(.*)$/i.exec(a);
    if (!m) throw new StrataError('USAGE', `bad filter "${a}" (want key=value)`);
    const key = m[1].toLowerCase();
    const negate = m[2] === '!=';
    if (!allowed.includes(key) && !(negate && allowed.includes(`${key}!`))) {
      throw new StrataError('USAGE', `invalid filter "${key}${negate ? '!' : ''}" (allowed: ${allowed.join(', ')})`);
    }
    return { key, value: m[3], negate };
  });
}

/**
 * Docker's `until` timestamps (moby's timetypes.GetTimestamp), in ms: a Go duration before `now`
 * ("24h", "1h30m"); RFC 3339 with or without seconds, fraction or zone; a date; Unix seconds
 * ("1700000000", "1700000000.5"). A time without a zone is in the zone of `now` (`tzOffsetMinutes`
 * east of UTC; default: the process's), as the daemon reads it.
 */
export function parseTimestamp(s: string, now = Date.now(), tzOffsetMinutes = -new Date(now).getTimezoneOffset()): number {
  const dur = s !== '0' ? goDuration(s) : undefined;
  if (dur !== undefined) return now - dur;
  const zoned = /[zZ+]/.test(s) || (s.match(/-/g) ?? []).length === 3;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?)?(Z|z|[+-]\d{2}:\d{2})?$/.exec(s);
  if (m && (m[8] !== undefined) === zoned && !(m[7] && !m[6])) {
    const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = ''] = m;
    const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec)) + Math.trunc(Number(`0${frac}`) * 1000);
    const zone = m[8];
    const offset = zone === undefined ? tzOffsetMinutes : /^[zZ]$/.test(zone) ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
    return utc - offset * 60_000;
  }
  if (!s.includes('-') && /^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  throw new StrataError('USAGE', `failed to parse value as time or duration: "${s}"`);
}

/** Go's time.ParseDuration, in ms; undefined when `s` is not one. */
function goDuration(s: string): number | undefined {
  const m = /^([-+]?)((?:\d*\.?\d+(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+|0)$/.exec(s);
  if (!m) return undefined;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, '\u00b5s': 1e-3, '\u03bcs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let ms = 0;
  for (const p of m[2].matchAll(/(\d*\.?\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g)) ms += Number(p[1]) * unit[p[2]];
  return m[1] === '-' ? -ms : ms;
}

/**
 * moby's filters.Args.MatchKVList: every spec (`key` or `key=value`) holds for the labels; with
 * no specs, true; with specs and no labels, false.
 */
export function matchKVList(specs: string[], labels: Record<string, string> | null | undefined): boolean {
  if (specs.length === 0) return true;
  if (!labels || Object.keys(labels).length === 0) return false;
  return specs.every((spec) => labelMatches(spec, labels));
}

/** `label=key`, `label=key=value` against a label map. */
export function labelMatches(spec: string, labels: Record<string, string> | null | undefined): boolean {
  const eq = spec.indexOf('=');
  const key = eq < 0 ? spec : spec.slice(0, eq);
  if (!labels || !(key in labels)) return false;
  return eq < 0 || labels[key] === spec.slice(eq + 1);
}
