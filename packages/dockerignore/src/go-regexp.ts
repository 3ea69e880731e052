/**
 * Go's regexp syntax (RE2 as `regexp.Compile` reads it: Perl flags, so `^`/`$` anchor the whole
 * text, `.` stops at `\n`, negated classes take `\n`) turned into a JavaScript RegExp that accepts
 * the same strings. Docker compiles `.dockerignore` patterns to Go regexps and passes `\x` escapes
 * and `[...]` classes through untouched, so where the dialects differ (`.`, `\s`, octal and `\x`
 * escapes, `\Q…\E`, POSIX classes, `^` inside a pattern, which inputs are errors) the answer must
 * be Go's. A faithful port of Go's `regexp/syntax` parser, emitting JavaScript instead of a tree.
 */

/** A Go regexp syntax error, with Go's code text ("missing closing ]") and the offending part. */
export class GoRegexpError extends Error {
  constructor(
    readonly code: string,
    readonly expr: string,
  ) {
    super(`error parsing regexp: ${code}: \`${expr}\``);
    this.name = 'GoRegexpError';
  }
}

const MAX_RUNE = 0x10ffff;
type Ranges = Array<[number, number]>;

// Go's perl_groups.go, as code point ranges.
const PERL_GROUPS: Record<string, Ranges> = {
  d: [[0x30, 0x39]],
  s: [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]],
  w: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]],
};
const POSIX_GROUPS: Record<string, Ranges> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0x00, 0x7f]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[0x09, 0x0d], [0x20, 0x20]],
  upper: [[0x41, 0x5a]],
  word: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]],
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};
// One-letter Unicode categories (`\pL`): the only `\p` names a Docker pattern can reach, because
// the pattern compiler escapes `{`. Go's `C` is Cc|Cf|Co|Cs (no Cn, unlike JavaScript's \p{C}).
const UNICODE_CATEGORIES: Record<string, { pos: string; neg: string }> = {
  L: { pos: '\\p{L}', neg: '\\P{L}' },
  M: { pos: '\\p{M}', neg: '\\P{M}' },
  N: { pos: '\\p{N}', neg: '\\P{N}' },
  P: { pos: '\\p{P}', neg: '\\P{P}' },
  S: { pos: '\\p{S}', neg: '\\P{S}' },
  Z: { pos: '\\p{Z}', neg: '\\P{Z}' },
  C: { pos: '\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}', neg: '\\P{C}\\p{Cn}' },
};

function negate(r: Ranges): Ranges {
  const sorted = [...r].sort((a, b) => a[0] - b[0]);
  const out: Ranges = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (next <= lo - 1) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= MAX_RUNE) out.push([next, MAX_RUNE]);
  return out;
}

const hex = (c: number) => `\\u{${c.toString(16)}}`;
const rangesText = (r: Ranges) => r.map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`)).join('');
const isAlnum = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const unhex = (c: number) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x61 + 10 : c >= 0x41 && c <= 0x46 ? c - 0x41 + 10 : -1);

/** Go's `regexp.Compile(source)` as a JavaScript RegExp with the `u` flag; throws GoRegexpError where Go fails. */
export function goRegexp(source: string): RegExp {
  return new RegExp(translate(source), 'u');
}

function translate(source: string): string {
  const s = Array.from(source, (ch) => ch.codePointAt(0)!);
  const text = (from: number, to: number) => String.fromCodePoint(...s.slice(from, to));
  let i = 0;

  /** Go's parseEscape at i (on `\`): one rune, or an error. */
  const parseEscape = (): number => {
    const start = i;
    i++;
    if (i >= s.length) throw new GoRegexpError('trailing backslash at end of expression', '');
    const c = s[i++];
    if (c < 0x80 && !isAlnum(c)) return c;
    const octal = (d: number) => d >= 0x30 && d <= 0x37;
    if ((c >= 0x31 && c <= 0x37 && i < s.length && octal(s[i])) || c === 0x30) {
      let r = c - 0x30;
      for (let n = 1; n < 3 && i < s.length && octal(s[i]); n++) r = r * 8 + s[i++] - 0x30;
      return r;
    }
    if (c === 0x78 /* x */ && i < s.length) {
      const d = s[i++];
      if (d === 0x7b /* { */) {
        let r = 0;
        let n = 0;
        for (;;) {
          if (i >= s.length) break;
          const e = s[i++];
          if (e === 0x7d /* } */) {
            if (n > 0) return r;
            break;
          }
          const v = unhex(e);
          if (v < 0) break;
          r = r * 16 + v;
          if (r > MAX_RUNE) break;
          n++;
        }
      } else {
        const y = i < s.length ? unhex(s[i++]) : -1;
        const x = unhex(d);
        if (x >= 0 && y >= 0) return x * 16 + y;
      }
    }
    const simple: Record<number, number> = { 0x61: 7, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9, 0x76: 11 };
    if (simple[c] !== undefined) return simple[c];
    throw new GoRegexpError('invalid escape sequence', text(start, i));
  };

  /** Go's parseUnicodeClass at i (on `\p` / `\P`): a JavaScript class item, or undefined if not one. */
  const parseUnicodeClass = (): { pos: string; neg: string; sign: number } | undefined => {
    if (s[i] !== 0x5c || (s[i + 1] !== 0x70 && s[i + 1] !== 0x50)) return undefined;
    const start = i;
    let sign = s[i + 1] === 0x50 ? -1 : 1;
    let name: string;
    if (s[i + 2] !== 0x7b /* { */) {
      name = i + 2 < s.length ? String.fromCodePoint(s[i + 2]) : '';
      i = Math.min(i + 3, s.length);
    } else {
      const end = s.indexOf(0x7d, i);
      if (end < 0) throw new GoRegexpError('invalid character class range', text(start, s.length));
      name = text(i + 3, end);
      i = end + 1;
    }
    if (name.startsWith('^')) {
      sign = -sign;
      name = name.slice(1);
    }
    // Go canonicalises the first letter's case; longer names (scripts, aliases) cannot occur, `{` being escaped.
    const cat = name.length === 1 ? UNICODE_CATEGORIES[name.toUpperCase()] : undefined;
    if (cat === undefined) throw new GoRegexpError('invalid character class range', text(start, i));
    return { ...cat, sign };
  };

  /** Go's parsePerlClassEscape at i: ranges for `\d \D \s \S \w \W`, or undefined. */
  const parsePerlClass = (): Ranges | undefined => {
    if (s[i] !== 0x5c || i + 1 >= s.length) return undefined;
    const c = String.fromCodePoint(s[i + 1]);
    const g = 'dsw'.includes(c) ? PERL_GROUPS[c] : 'DSW'.includes(c) ? negate(PERL_GROUPS[c.toLowerCase()]) : undefined;
    if (g !== undefined) i += 2;
    return g;
  };

  /** Go's parseClass at i (on `[`): a JavaScript class. */
  const parseClass = (): string => {
    const whole = i;
    i++;
    let negated = false;
    if (s[i] === 0x5e /* ^ */) {
      negated = true;
      i++;
    }
    const ranges: Ranges = [];
    const items: string[] = [];
    let first = true;
    while (i >= s.length || s[i] !== 0x5d /* ] */ || first) {
      first = false;
      if (i + 2 < s.length && s[i] === 0x5b && s[i + 1] === 0x3a) {
        const rest = text(i + 2, s.length);
        const at = rest.indexOf(':]');
        if (at >= 0) {
          const name = rest.slice(0, at);
          const neg = name.startsWith('^');
          const g = POSIX_GROUPS[neg ? name.slice(1) : name];
          if (g === undefined) throw new GoRegexpError('invalid character class range', `[:${name}:]`);
          ranges.push(...(neg ? negate(g) : g));
          i += 2 + Array.from(name).length + 2;
          continue;
        }
      }
      const u = parseUnicodeClass();
      if (u !== undefined) {
        items.push(u.sign > 0 ? u.pos : u.neg);
        continue;
      }
      const perl = parsePerlClass();
      if (perl !== undefined) {
        ranges.push(...perl);
        continue;
      }
      const classChar = (): number => {
        if (i >= s.length) throw new GoRegexpError('missing closing ]', text(whole, s.length));
        return s[i] === 0x5c ? parseEscape() : s[i++];
      };
      const rangeStart = i;
      const lo = classChar();
      let hi = lo;
      if (i + 1 < s.length && s[i] === 0x2d /* - */ && s[i + 1] !== 0x5d) {
        i++;
        hi = classChar();
        if (hi < lo) throw new GoRegexpError('invalid character class range', text(rangeStart, i));
      }
      ranges.push([lo, hi]);
    }
    i++; // ]
    return `[${negated ? '^' : ''}${rangesText(ranges)}${items.join('')}]`;
  };

  // A concatenation is a list of terms (each one repeatable atom); groups and alternation nest them.
  interface Frame {
    alts: string[];
    terms: string[];
  }
  const stack: Frame[] = [{ alts: [], terms: [] }];
  const top = () => stack[stack.length - 1];
  let lastRepeat = false;

  const repeat = (op: string, before: number) => {
    if (s[i] === 0x3f /* ? */) {
      i++;
      op += '?';
    }
    if (lastRepeat) throw new GoRegexpError('invalid nested repetition operator', text(before - 1, i));
    const terms = top().terms;
    if (terms.length === 0) throw new GoRegexpError('missing argument to repetition operator', text(before, i));
    terms[terms.length - 1] = `(?:${terms[terms.length - 1]})${op}`;
  };

  while (i < s.length) {
    const c = s[i];
    let isRepeat = false;
    switch (c) {
      case 0x28 /* ( */:
        if (s[i + 1] === 0x3f) throw new Error(`unsupported Go regexp construct (? in ${source}`); // unreachable from the pattern compiler
        stack.push({ alts: [], terms: [] });
        i++;
        break;
      case 0x7c /* | */:
        top().alts.push(top().terms.join(''));
        top().terms = [];
        i++;
        break;
      case 0x29 /* ) */: {
        if (stack.length < 2) throw new GoRegexpError('unexpected )', source);
        const f = stack.pop()!;
        top().terms.push(`(?:${[...f.alts, f.terms.join('')].join('|')})`);
        i++;
        break;
      }
      case 0x5e /* ^ */:
        top().terms.push('^');
        i++;
        break;
      case 0x24 /* $ */:
        top().terms.push('$');
        i++;
        break;
      case 0x2e /* . */:
        top().terms.push('[^\\n]');
        i++;
        break;
      case 0x5b /* [ */:
        top().terms.push(parseClass());
        break;
      case 0x2a /* * */:
      case 0x2b /* + */:
      case 0x3f /* ? */: {
        const before = i++;
        repeat(String.fromCodePoint(c), before);
        isRepeat = true;
        break;
      }
      case 0x7b /* { */: {
        // Go's parseRepeat: `{n}`, `{n,}`, `{n,m}` without leading zeros; anything else is a literal `{`
        const m = /^\{(0|[1-9][0-9]*)(,(0|[1-9][0-9]*)?)?\}/.exec(text(i, s.length));
        if (m === null) {
          top().terms.push(hex(c));
          i++;
          break;
        }
        const min = Number(m[1]);
        const max = m[2] === undefined ? min : m[3] === undefined ? -1 : Number(m[3]);
        const before = i;
        i += m[0].length;
        if (min > 1000 || max > 1000 || (max >= 0 && min > max)) throw new GoRegexpError('invalid repeat count', m[0]);
        repeat(`{${min}${m[2] === undefined ? '' : `,${max < 0 ? '' : max}`}}`, before);
        isRepeat = true;
        break;
      }
      case 0x5c /* \ */: {
        const n = s[i + 1];
        if (n === 0x41 /* A */) {
          top().terms.push('^');
          i += 2;
          break;
        }
        if (n === 0x7a /* z */) {
          top().terms.push('$');
          i += 2;
          break;
        }
        if (n === 0x62 /* b */ || n === 0x42 /* B */) {
          top().terms.push(n === 0x62 ? '\\b' : '\\B');
          i += 2;
          break;
        }
        if (n === 0x43 /* C */) throw new GoRegexpError('invalid escape sequence', '\\C');
        if (n === 0x51 /* Q */) {
          const rest = text(i + 2, s.length);
          const end = rest.indexOf('\\E');
          const lit = end < 0 ? rest : rest.slice(0, end);
          for (const ch of lit) top().terms.push(hex(ch.codePointAt(0)!));
          i = end < 0 ? s.length : i + 2 + Array.from(rest.slice(0, end)).length + 2;
          break;
        }
        const u = parseUnicodeClass();
        if (u !== undefined) {
          top().terms.push(`[${u.sign > 0 ? u.pos : u.neg}]`);
          break;
        }
        const perl = parsePerlClass();
        if (perl !== undefined) {
          top().terms.push(`[${rangesText(perl)}]`);
          break;
        }
        top().terms.push(hex(parseEscape()));
        break;
      }
      default:
        top().terms.push(hex(c));
        i++;
    }
    lastRepeat = isRepeat;
  }
  if (stack.length !== 1) throw new GoRegexpError('missing closing )', source);
  const f = stack[0];
  return [...f.alts, dedupeAnyDirs(f.terms).join('')].join('|');
}

// `(.*/)?(.*/)?` accepts what `(.*/)?` accepts; JavaScript backtracks over each copy, so `**/**/…`
// would cost a power of the path length. Equal adjacent copies are dropped.
const ANY_DIRS = `(?:(?:${'[^\\n]'})*${hex(0x2f)})`;
function dedupeAnyDirs(terms: string[]): string[] {
  const quest = `(?:${ANY_DIRS})?`;
  return terms.filter((t, k) => !(t === quest && terms[k - 1] === quest));
}
