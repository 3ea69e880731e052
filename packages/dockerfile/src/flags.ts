import { suggestion } from './go-text';

export type FlagKind = 'bool' | 'string' | 'strings';

export interface ParsedFlags {
  /** Flag names given, in order of first use. */
  used: string[];
  bool(name: string): boolean | undefined;
  string(name: string): string | undefined;
  strings(name: string): string[];
}

/**
 * BuildKit `BFlags.Parse`: `--name=value` (booleans also bare `--name`), a bare `--` stops,
 * unknown names error with a did-you-mean, only repeatable flags may repeat.
 * Throws plain Error; the caller adds the line.
 */
export function parseFlags(raw: readonly string[], spec: Readonly<Record<string, FlagKind>>): ParsedFlags {
  const bools = new Map<string, boolean>();
  const strs = new Map<string, string>();
  const lists = new Map<string, string[]>();
  const used: string[] = [];
  for (const a of raw) {
    if (a === '--') break;
    if (!a.startsWith('--')) throw new Error(`arg should start with -- : ${a}`);
    const eq = a.indexOf('=');
    const flagName = eq < 0 ? a : a.slice(0, eq);
    const value = eq < 0 ? '' : a.slice(eq + 1);
    const hasValue = eq >= 0;
    const name = flagName.slice(2);
    const kind = Object.prototype.hasOwnProperty.call(spec, name) ? spec[name] : undefined;
    if (!kind) {
      throw new Error(`unknown flag: ${flagName}${suggestion(name, Object.keys(spec), true)}`);
    }
    if (used.includes(name) && kind !== 'strings') throw new Error(`duplicate flag specified: ${flagName}`);
    if (!used.includes(name)) used.push(name);
    switch (kind) {
      case 'bool': {
        if (hasValue && value === '') throw new Error(`missing a value on flag: ${flagName}`);
        const lower = value.toLowerCase();
        if (lower === '' || lower === 'true') bools.set(name, true);
        else if (lower === 'false') bools.set(name, false);
        else throw new Error(`expecting boolean value for flag ${flagName}, not: ${value}`);
        break;
      }
      case 'string':
        if (!hasValue) throw new Error(`missing a value on flag: ${flagName}`);
        strs.set(name, value);
        break;
      case 'strings':
        if (!hasValue) throw new Error(`missing a value on flag: ${flagName}`);
        lists.set(name, [...(lists.get(name) ?? []), value]);
        break;
    }
  }
  return {
    used,
    bool: (n) => bools.get(n),
    string: (n) => strs.get(n),
    strings: (n) => lists.get(n) ?? [],
  };
}
