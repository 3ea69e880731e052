import { StrataError } from '@strata/errors';
import { goClean, goTrimSpace } from './go-path';
import { goRegexp, GoRegexpError } from './go-regexp';
import { goPathMatch } from '@strata/gotext';

/** How a compiled pattern is tested: the same fast paths moby/patternmatcher takes before a regexp. */
export type PatternKind = 'exact' | 'prefix' | 'suffix' | 'regexp';

export interface Pattern {
  /** The cleaned pattern without its `!` (what Docker's `Pattern.String()` gives). */
  readonly text: string;
  /** A `!` exception: a match re-includes the path. */
  readonly exclusion: boolean;
  readonly kind: PatternKind;
  /** For kind `regexp`: the Go regexp Docker compiles (`^…$`), as its TestCompile shows it. */
  readonly regexp?: string;
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
  // a pattern may hold a carriage return (a CRLF file): the message stays one line
  const shown = raw.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
  return new StrataError('DOCKERIGNORE_SYNTAX', `${where}bad pattern "${shown}": ${why}`);
}



/**
 * The check Docker's `New` makes of each pattern: Go's `filepath.Match(pattern, ".")`, which reports
 * ErrBadPattern only for the chunks it reads before the match against "." fails (`a*[` passes:
 * the chunk `a` already fails; the regexp compiler may still reject the pattern later).
 */
export function patternSyntaxError(p: string): string | undefined {
  return goPathMatch(p, '.') === 'bad' ? 'syntax error in pattern' : undefined;
}

const BOM = '\uFEFF';
const REGEXP_SPECIALS = '.+()|{}$';

/**
 * moby/patternmatcher's `compile`: the match type and Go regexp of a cleaned pattern. It reads the
 * pattern with Go's text/scanner, which skips one byte-order mark at the start (the fast paths
 * below still compare the pattern as written, BOM included). `**` at the start makes a suffix
 * match whatever follows unless a later wildcard turns it into a regexp: `**.txt` is "ends in
 * .txt", `**file` "ends in file".
 */
function goCompile(p: string): { kind: PatternKind; regexp: string } {
  const cps = Array.from(p);
  let k = cps[0] === BOM ? 1 : 0;
  let kind: PatternKind = 'exact';
  let re = '^';
  for (let i = 0; k < cps.length; i++) {
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
          re += '(.*/)?';
          kind = 'regexp';
        }
        if (i === 0) kind = 'suffix';
      } else {
        re += '[^/]*';
        kind = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      kind = 'regexp';
    } else if (REGEXP_SPECIALS.includes(ch)) {
      re += `\\${ch}`;
    } else if (ch === '\\') {
      // a trailing `\` is kept (filepath.Match has usually rejected it; `a*\` gets through)
      if (k < cps.length) {
        re += `\\${cps[k++]}`;
        kind = 'regexp';
      } else re += '\\';
    } else if (ch === '[' || ch === ']') {
      re += ch;
      kind = 'regexp';
    } else {
      re += ch;
    }
  }
  return { kind, regexp: `${re}$` };
}

const encoder = new TextEncoder();

/** `bytes.HasSuffix(path, suffix)` for a suffix that is not whole UTF-8 (a BOM cut by a byte slice). */
function bytesEndWith(path: string, suffix: Uint8Array): boolean {
  const b = encoder.encode(path);
  if (b.length < suffix.length) return false;
  for (let k = 1; k <= suffix.length; k++) if (b[b.length - k] !== suffix[suffix.length - k]) return false;
  return true;
}

/** No newline before the last slash: the `.` of the any-directories group does not match one in Go. */
function dirsWithoutNewline(path: string, lastSlash: number): boolean {
  return lastSlash < 0 || path.lastIndexOf('\n', lastSlash) < 0;
}

/**
 * Compile one pattern exactly as moby/patternmatcher does (TrimSpace, Clean, `!`, the
 * `filepath.Match` check, then exact / prefix / suffix / regexp), raising DOCKERIGNORE_SYNTAX with
 * the line for a bad one. Docker compiles the regexp lazily and fails at the first path that needs
 * it; strata compiles it here, so a pattern Go's regexp rejects fails when the file is loaded.
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
  const bad = patternSyntaxError(p);
  if (bad) throw syntaxError(origin, raw, bad);

  const { kind, regexp } = goCompile(p);
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
      if (text.startsWith(BOM)) {
        // Go slices the first two bytes off: half of the BOM stays in front of the suffix
        const suffix = encoder.encode(text).subarray(2);
        return { ...base, test: (path) => bytesEndWith(path, suffix) };
      }
      const suffix = text.slice(2);
      const bare = suffix[0] === '/' ? suffix.slice(1) : undefined;
      return { ...base, test: (path) => path.endsWith(suffix) || path === bare };
    }
    case 'regexp': {
      const withRegexp = { ...base, regexp };
      // `**/*.log`, the commonest wildcard pattern, is "the last segment ends with .log": no regexp
      const ext = /^\*\*\/\*([^*?[\]\\/^]+)$/.exec(text);
      if (ext !== null) {
        const tail = ext[1];
        return { ...withRegexp, test: (path) => path.endsWith(tail) && dirsWithoutNewline(path, path.lastIndexOf('/')) };
      }
      // `**/secret*`: the last segment starts with a literal
      const head = /^\*\*\/([^*?[\]\\/^]+)\*$/.exec(text);
      if (head !== null) {
        const lead = head[1];
        return {
          ...withRegexp,
          test: (path) => {
            const slash = path.lastIndexOf('/');
            return path.startsWith(lead, slash + 1) && dirsWithoutNewline(path, slash);
          },
        };
      }
      let compiled: RegExp;
      try {
        compiled = goRegexp(regexp);
      } catch (err) {
        if (!(err instanceof GoRegexpError)) throw err;
        throw syntaxError(origin, raw, `syntax error in pattern (${err.message})`);
      }
      return { ...withRegexp, test: (path) => compiled.test(path) };
    }
  }
}
