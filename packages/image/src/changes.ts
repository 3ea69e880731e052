import { StrataError } from '@strata/errors';
import type { RuntimeConfig } from '@strata/oci';

/** The instructions `docker import --change` / `docker commit --change` accept. */
export const CHANGE_INSTRUCTIONS = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'USER', 'WORKDIR', 'VOLUME', 'STOPSIGNAL'] as const;

function bad(change: string, why: string): never {
  throw new StrataError('USAGE', `--change "${change}": ${why}`);
}

/** JSON form (`["a","b"]`) when it parses as a list of strings, else undefined. */
function jsonList(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(rest) as unknown;
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Split shell-like words: quotes group, backslash escapes (enough for KEY=VALUE lists). */
function words(s: string, change: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) bad(change, 'unterminated quote');
  if (inWord) out.push(cur);
  return out;
}

/** `K=V K2=V2` or the legacy single `K V` form, as ENV and LABEL take them. */
function pairs(rest: string, change: string): Array<[string, string]> {
  const first = /^(\S+)\s+(.*)$/s.exec(rest);
  if (first && !first[1].includes('=')) return [[first[1], first[2].trim()]];
  return words(rest, change).map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) bad(change, `"${w}" is not KEY=VALUE`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** Apply `--change` instructions to a runtime config (returns a new one). */
export function applyChanges(base: RuntimeConfig, changes: string[]): RuntimeConfig {
  const c: RuntimeConfig = structuredClone(base);
  let cmdSet = false;
  for (const change of changes) {
    const m = /^\s*(\S+)\s*(.*?)\s*$/s.exec(change);
    if (!m || !m[1]) bad(change, 'empty');
    const op = m[1].toUpperCase();
    const rest = m[2];
    switch (op) {
      case 'CMD':
      case 'ENTRYPOINT': {
        const list = jsonList(rest) ?? ['/bin/sh', '-c', rest];
        if (op === 'CMD') {
          c.Cmd = list;
          cmdSet = true;
        } else {
          c.Entrypoint = list;
          // As Docker: ENTRYPOINT resets a CMD inherited from the base, not one set alongside it.
          if (!cmdSet) c.Cmd = null;
        }
        break;
      }
      case 'ENV': {
        const env = [...(c.Env ?? [])];
        for (const [k, v] of pairs(rest, change)) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        c.Env = env;
        break;
      }
      case 'LABEL':
        c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(pairs(rest, change)) };
        break;
      case 'EXPOSE': {
        const ports = { ...(c.ExposedPorts ?? {}) };
        for (const p of words(rest, change)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) bad(change, `invalid port "${p}"`);
          ports[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
        }
        c.ExposedPorts = ports;
        break;
      }
      case 'USER':
        if (!rest) bad(change, 'USER needs a user');
        c.User = rest;
        break;
      case 'WORKDIR': {
        if (!rest) bad(change, 'WORKDIR needs a path');
        const base = c.WorkingDir || '/';
        c.WorkingDir = rest.startsWith('/') ? rest : `${base.replace(/\/$/, '')}/${rest}`;
        break;
      }
      case 'VOLUME': {
        const vols = { ...(c.Volumes ?? {}) };
        for (const v of jsonList(rest) ?? words(rest, change)) vols[v] = {};
        c.Volumes = vols;
        break;
      }
      case 'STOPSIGNAL':
        if (!rest) bad(change, 'STOPSIGNAL needs a signal');
        c.StopSignal = rest;
        break;
      default:
        bad(change, `${op} is not a valid change command (use ${CHANGE_INSTRUCTIONS.join(', ')})`);
    }
  }
  return c;
}
