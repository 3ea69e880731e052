import { StrataError } from '@strata/errors';
import { goClean, goTrimSpace } from './go-path';
import { goRegexp, GoRegexpError } from './go-regexp';

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
  return new StrataError('DOCKERIGNORE_SYNTAX', `${where}bad pattern "${raw}": ${why}`);
}


const SLASH = 0x2f;

/** One UTF-8 rune at `at` of `b` as Go's DecodeRune reads it: [rune, size], [0xfffd, 1] when invalid. */
function decodeRune(b: Uint8Array, at: number): [number, number] {
  const c = b[at];
  if (c < 0x80) return [c, 1];
  const need = c >= 0xf8 ? -1 : c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : -1;
  if (need < 0) return [0xfffd, 1];
  let r = c & (0x3f >> need);
  for (let k = 1; k <= need; k++) {
    const d = b[at + k];
    if (d === undefined || (d & 0xc0) !== 0x80) return [0xfffd, 1];
    r = (r << 6) | (d & 0x3f);
  }
  if (r < [0, 0x80, 0x800, 0x10000][need] || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) return [0xfffd, 1];
  return [r, need + 1];
}

type ChunkResult = Uint8Array | false | 'bad';

/** Go's getEsc: one class character (maybe escaped) and the rest, or 'bad'. */
function getEsc(chunk: Uint8Array): [number, Uint8Array] | 'bad' {
  if (chunk.length === 0 || chunk[0] === 0x2d || chunk[0] === 0x5d) return 'bad';
  let c = chunk;
  if (c[0] === 0x5c) {
    c = c.subarray(1);
    if (c.length === 0) return 'bad';
  }
  const [r, n] = decodeRune(c, 0);
  if (r === 0xfffd && n === 1) return 'bad';
  const rest = c.subarray(n);
  return rest.length === 0 ? 'bad' : [r, rest];
}

/** Go's matchChunk: the rest of `s` after `chunk` matched its start, false, or 'bad' (ErrBadPattern). */
function matchChunk(chunk: Uint8Array, s: Uint8Array): ChunkResult {
  let failed = false;
  while (chunk.length > 0) {
    failed = failed || s.length === 0;
    switch (chunk[0]) {
      case 0x5b: {
        let r = 0;
        if (!failed) {
          const [rune, n] = decodeRune(s, 0);
          r = rune;
          s = s.subarray(n);
        }
        chunk = chunk.subarray(1);
        let negated = false;
        if (chunk.length > 0 && chunk[0] === 0x5e) {
          negated = true;
          chunk = chunk.subarray(1);
        }
        let match = false;
        for (let nrange = 0; ; nrange++) {
          if (chunk.length > 0 && chunk[0] === 0x5d && nrange > 0) {
            chunk = chunk.subarray(1);
            break;
          }
          const lo = getEsc(chunk);
          if (lo === 'bad') return 'bad';
          let hi = lo[0];
          chunk = lo[1];
          if (chunk[0] === 0x2d) {
            const h = getEsc(chunk.subarray(1));
            if (h === 'bad') return 'bad';
            [hi, chunk] = h;
          }
          match = match || (lo[0] <= r && r <= hi);
        }
        failed = failed || match === negated;
        break;
      }
      case 0x3f:
        if (!failed) {
          failed = s[0] === SLASH;
          s = s.subarray(decodeRune(s, 0)[1]);
        }
        chunk = chunk.subarray(1);
        break;
      default:
        if (chunk[0] === 0x5c) {
          chunk = chunk.subarray(1);
          if (chunk.length === 0) return 'bad';
        }
        if (!failed) {
          failed = chunk[0] !== s[0];
          s = s.subarray(1);
        }
        chunk = chunk.subarray(1);
    }
  }
  return failed ? false : s;
}

/** Go's scanChunk: [star, chunk, rest]. */
function scanChunk(p: Uint8Array): [boolean, Uint8Array, Uint8Array] {
  let star = false;
  while (p.length > 0 && p[0] === 0x2a) {
    p = p.subarray(1);
    star = true;
  }
  let inRange = false;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === 0x5c) {
      if (i + 1 < p.length) i++;
    } else if (p[i] === 0x5b) inRange = true;
    else if (p[i] === 0x5d) inRange = false;
    else if (p[i] === 0x2a && !inRange) return [star, p.subarray(0, i), p.subarray(i)];
  }
  return [star, p, p.subarray(p.length)];
}

/** Go's `filepath.Match(pattern, name)` on UTF-8 bytes: true, false, or 'bad' (ErrBadPattern). */
function goMatch(pattern: Uint8Array, name: Uint8Array): boolean | 'bad' {
  outer: while (pattern.length > 0) {
    const [star, chunk, rest] = scanChunk(pattern);
    pattern = rest;
    if (star && chunk.length === 0) return !name.includes(SLASH);
    const t = matchChunk(chunk, name);
    if (t !== false && t !== 'bad' && (t.length === 0 || pattern.length > 0)) {
      name = t;
      continue;
    }
    if (t === 'bad') return 'bad';
    if (star) {
      for (let i = 0; i < name.length && name[i] !== SLASH; i++) {
        const t2 = matchChunk(chunk, name.subarray(i + 1));
        if (t2 === 'bad') return 'bad';
        if (t2 !== false) {
          if (pattern.length === 0 && t2.length > 0) continue;
          name = t2;
          continue outer;
        }
      }
    }
    return false;
  }
  return name.length === 0;
}

const DOT = new Uint8Array([0x2e]);

/**
 * The check Docker's `New` makes of each pattern: Go's `filepath.Match(pattern, ".")`, which reports
 * ErrBadPattern only for the chunks it reads before the match against "." fails (`a*[` passes:
 * the chunk `a` already fails; the regexp compiler may still reject the pattern later).
 */
export function patternSyntaxError(p: string): string | undefined {
  return goMatch(Buffer.from(p, 'utf8'), DOT) === 'bad' ? 'syntax error in pattern' : undefined;
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
