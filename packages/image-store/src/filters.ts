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

/** Docker's `until`/`since`-style timestamps: RFC 3339 / date, unix seconds, or a Go duration before now. */
export function parseTimestamp(s: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const dur = /^(?:\d+(?:\.\d+)?(?:ns|us|\u00b5s|ms|s|m|h))+$/.test(s) ? goDuration(s) : undefined;
  if (dur !== undefined) return now - dur;
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new StrataError('USAGE', `bad timestamp "${s}" (want RFC 3339, unix seconds or a duration like 24h)`);
  return t;
}

function goDuration(s: string): number {
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let ms = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)/g)) ms += Number(m[1]) * unit[m[2]];
  return ms;
}

/** `label=key`, `label=key=value` against a label map. */
export function labelMatches(spec: string, labels: Record<string, string> | null | undefined): boolean {
  const eq = spec.indexOf('=');
  const key = eq < 0 ? spec : spec.slice(0, eq);
  if (!labels || !(key in labels)) return false;
  return eq < 0 || labels[key] === spec.slice(eq + 1);
}
