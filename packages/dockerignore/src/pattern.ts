import { StrataError } from '@strata/errors';
import { goClean, goTrimSpace } from './go-path';

/** How a compiled pattern is tested: the same fast paths moby/patternmatcher takes before a regexp. */
export type PatternKind = 'exact' | 'prefix' | 'suffix' | 'regexp';

export interface Pattern {
  /** The cleaned pattern without its `!` (what Docker's `Pattern.String()` gives). */
  readonly text: string;
  /** A `!` exception: a match re-includes the path. */
  readonly exclusion: boolean;
  readonly kind: PatternKind;
  /** Number of `/`-separated segments (Docker's legacy parent matching uses it). */
  readonly segments: number;
  /** 1-based line in the ignore file, when the pattern came from one. */
  readonly line?: number;
  /** The file the pattern came from (for messages). */
  readonly source?: string;
  /** The line as written (after comment/blank filtering), for messages. */
  readonly raw: string;
  /** Does this pattern (alone) match the slash-separated relative path? No parent logic. */
  test(path: string): boolean;
}

export interface PatternOrigin {
  line?: number;
  source?: string;
}

function syntaxError(origin: PatternOrigin, raw: string, why: string): StrataError {
  const where = origin.line !== undefined ? `${origin.source ?? '.dockerignore'}:${origin.line}: ` : '';
  return new StrataError('DOCKERIGNORE_SYNTAX', `${where}bad pattern "${raw}": ${why}`);
}

/**
 * Go's `filepath.Match(pattern, ".")` is what Docker calls to reject a malformed pattern up front;
 * this checks the same grammar: `\` must escape something, a class must close, must not be empty,
 * and must not start or end a range with `-` or `]`.
 */
export function patternSyntaxError(p: string): string | undefined {
  let i = 0;
  const cps = Array.from(p);
  const n = cps.length;
  // One class element (Go's getEsc): a char, or `\` + char; the class must continue after it.
  const esc = (): string | undefined => {
    if (i >= n || cps[i] === '-' || cps[i] === ']') return 'syntax error in pattern';
    if (cps[i] === '\\') {
      i++;
      if (i >= n) return 'syntax error in pattern';
    }
    i++;
    if (i >= n) return 'syntax error in pattern';
    return undefined;
  };
  while (i < n) {
    const c = cps[i];
    if (c === '\\') {
      if (i + 1 >= n) return 'syntax error in pattern (trailing \\)';
      i += 2;
    } else if (c === '[') {
      i++;
      if (i < n && cps[i] === '^') i++;
      let ranges = 0;
      for (;;) {
        if (i < n && cps[i] === ']' && ranges > 0) {
          i++;
          break;
        }
        const e = esc();
        if (e) return e;
        if (cps[i] === '-') {
          i++;
          const e2 = esc();
          if (e2) return e2;
        }
        ranges++;
      }
    } else {
      i++;
    }
  }
  return undefined;
}

const REGEXP_SPECIALS = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

// Go regexp escapes that are not plain "this character"; the ones Docker users can hit by writing
// `\d` and friends in a pattern (Go's regexp then gives them their regexp meaning).
const GO_ALNUM_ESCAPES: Record<string, string> = {
  a: '\\x07', f: '\\f', t: '\\t', n: '\\n', r: '\\r', v: '\\v',
  d: '[0-9]', D: '[^0-9]', s: '[\\t\\n\\f\\r ]', S: '[^\\t\\n\\f\\r ]', w: '[0-9A-Za-z_]', W: '[^0-9A-Za-z_]',
  b: '\\b', B: '\\B', A: '^', z: '$',
};
const GO_CLASS_ESCAPES: Record<string, string> = {
  a: '\\x07', f: '\\f', t: '\\t', n: '\\n', r: '\\r', v: '\\v', d: '0-9', s: '\\t\\n\\f\\r ', w: '0-9A-Za-z_',
};
const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7f', blank: '\\t ', cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9', graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-\\/:-@\\[-`{-~', space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z', word: '0-9A-Za-z_', xdigit: '0-9A-Fa-f',
};

function jsLiteral(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

/**
 * Compile one pattern exactly as moby/patternmatcher does (TrimSpace, Clean, `!`, syntax check, then
 * exact / prefix / suffix / regexp), raising DOCKERIGNORE_SYNTAX with the line for a bad one.
 */
export function compilePattern(input: string, origin: PatternOrigin = {}): Pattern {
  const raw = goTrimSpace(input);
  let p = goClean(raw);
  let exclusion = false;
  if (p[0] === '!') {
    if (p.length === 1) throw syntaxError(origin, raw, 'illegal exclusion pattern: "!"');
    exclusion = true;
    p = p.slice(1);
  }
  // Docker compiles patterns with Go's text/scanner, which skips one byte-order mark at the start:
  // so a BOM at the start of any line (not only line 1, which the file reader strips) is ignored.
  if (p[0] === '\uFEFF') p = p.slice(1);
  const bad = patternSyntaxError(p);
  if (bad) throw syntaxError(origin, raw, bad);

  let kind: PatternKind = 'exact';
  let re = '^';
  let inClass = false;
  const cps = Array.from(p);
  for (let k = 0, i = 0; k < cps.length; i++) {
    const ch = cps[k++];
    if (ch === '*') {
      if (cps[k] === '*') {
        k++;
        if (cps[k] === '/') k++;
        if (k >= cps.length) {
          if (kind === 'exact') kind = 'prefix';
          else {
            re += '.*';
            kind = 'regexp';
          }
        } else {
          re += inClass ? '(.*/)?' : '(?:.*/)?';
          kind = 'regexp';
        }
        if (i === 0) kind = 'suffix';
      } else {
        re += '[^/]*';
        inClass = false; // the `]` just written closes an open class, in Go's regexp as in ours
        kind = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      inClass = false;
      kind = 'regexp';
    } else if (REGEXP_SPECIALS.has(ch)) {
      re += `\\${ch}`;
    } else if (ch === '\\') {
      const next = cps[k++];
      if (/[0-9A-Za-z]/.test(next)) {
        const mapped = (inClass ? GO_CLASS_ESCAPES : GO_ALNUM_ESCAPES)[next];
        if (mapped === undefined) throw syntaxError(origin, raw, `unsupported escape \\${next} (Go regexp)`);
        re += mapped;
      } else if (next.charCodeAt(0) >= 0x80) {
        throw syntaxError(origin, raw, `invalid escape \\${next} (Go regexp)`);
      } else {
        re += `\\${next}`;
      }
      kind = 'regexp';
    } else if (ch === '[') {
      kind = 'regexp';
      if (!inClass) {
        re += '[';
        inClass = true;
        if (cps[k] === '^') {
          re += '^';
          k++;
        }
      } else if (cps[k] === ':') {
        const end = cps.indexOf(':', k + 1);
        const cls = end > 0 && cps[end + 1] === ']' ? POSIX_CLASSES[cps.slice(k + 1, end).join('')] : undefined;
        if (cls === undefined) re += '\\[';
        else {
          re += cls;
          k = end + 2;
        }
      } else {
        re += '\\[';
      }
    } else if (ch === ']') {
      kind = 'regexp';
      re += inClass ? ']' : '\\]';
      inClass = false;
    } else {
      re += ch === '-' && inClass ? '-' : jsLiteral(ch);
    }
  }

  // A leading `**` not followed by `/` (`**.txt`) means "any directories, then .txt" — Docker 20.10
  // and the documented meaning of `**` agree; a plain suffix test would also take `b.txt`.
  if (kind === 'suffix' && p.length > 2 && p[2] !== '/') kind = 'regexp';
  const text = p;
  const segments = text.split('/').length;
  const base = { text, exclusion, kind, segments, line: origin.line, source: origin.source, raw };
  switch (kind) {
    case 'exact':
      return { ...base, test: (path) => path === text };
    case 'prefix': {
      const prefix = text.slice(0, -2);
      return { ...base, test: (path) => path.startsWith(prefix) };
    }
    case 'suffix': {
      const suffix = text.slice(2);
      const bare = suffix[0] === '/' ? suffix.slice(1) : undefined;
      return { ...base, test: (path) => path.endsWith(suffix) || path === bare };
    }
    case 'regexp': {
      // `**/*.log`, the commonest wildcard pattern, is "ends with .log": no regexp needed
      const ext = /^\*\*\/\*([^*?[\]\\/]+)$/.exec(text);
      if (ext !== null) {
        const tail = ext[1];
        return { ...base, test: (path) => path.endsWith(tail) };
      }
      // `**/secret*`: the last segment starts with a literal
      const head = /^\*\*\/([^*?[\]\\/]+)\*$/.exec(text);
      if (head !== null) {
        const lead = head[1];
        return { ...base, test: (path) => path.startsWith(lead, path.lastIndexOf('/') + 1) };
      }
      let regexp: RegExp;
      try {
        regexp = new RegExp(`${re}$`);
      } catch (err) {
        throw syntaxError(origin, raw, `not a valid pattern (${(err as Error).message})`);
      }
      return { ...base, test: (path) => regexp.test(path) };
    }
  }
}
