import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMatcher, goClean, readIgnoreFile, type ParentMatch } from '../src/index';
import { goRegexp } from '../src/go-regexp';

// The walker's incremental answers (per-depth candidate patterns + parent results) must equal the
// plain "it or any parent matches, last match wins" evaluation for any patterns and paths.
const seg = fc.constantFrom('a', 'b', 'ab', '.x', 'a.md', 'node_modules', 'keep', 'a\nb', '\uFEFFa', 'x.txt', 'a^b', 'é');
const patSeg = fc.constantFrom(
  'a', 'b', '*', '**', 'a*', '?b', '*.md', '[ab]', '[^a]', 'keep', 'node_modules', '.*', '**.md', '**b', '**.txt', 'a^b', '*^b', '\uFEFFa', 'a\\*', '\\d', 'é',
);
const pattern = fc.tuple(fc.boolean(), fc.array(patSeg, { minLength: 1, maxLength: 3 })).map(([neg, s]) => `${neg ? '!' : ''}${s.join('/')}`);
const path = fc.array(seg, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));

describe('incremental matching', () => {
  it('equals MatchesOrParentMatches', () => {
    fc.assert(
      fc.property(fc.array(pattern, { maxLength: 6 }), path, (patterns, p) => {
        const m = createMatcher(patterns);
        const parts = p.split('/');
        let info: ParentMatch | undefined;
        for (let i = 0; i < parts.length - 1; i++) info = m.matchInDir(parts.slice(0, i + 1).join('/'), info).info;
        const want = m.matches(p);
        expect(m.excludedInDir(p, info)).toBe(want);
        expect(m.matchInDir(p, info).excluded).toBe(want);
        // no parent results for a nested path: the parents are tested (MatchesUsingParentResults, empty MatchInfo)
        expect(m.matchInDir(p, undefined).excluded).toBe(want);
        expect(m.excludedInDir(p, undefined)).toBe(want);
      }),
      { numRuns: 3000 },
    );
  });
});

/**
 * The reference: moby/patternmatcher's `compile` and `match` transliterated from its Go source
 * (5a6d842), one rune at a time, with no shortcut of strata's. A regexp-type pattern is decided
 * by the plain Go regexp (through the one Go-to-JavaScript regexp translation); the exact,
 * prefix and suffix types by Go's string tests. Checked against upstream's TestCompile table below.
 */
function reference(cleaned: string): { kind: string; regexp?: string; test: (path: string) => boolean } {
  const runes = Array.from(cleaned);
  let at = 0;
  const peek = () => (at === 0 && runes[0] === '\uFEFF' ? runes[(at = 1)] : runes[at]); // text/scanner skips a leading BOM
  const next = () => {
    const r = peek();
    at++;
    return r;
  };
  let type = 'exact';
  let reg = '^';
  for (let i = 0; peek() !== undefined; i++) {
    const ch = next();
    if (ch === '*') {
      if (peek() === '*') {
        next();
        if (peek() === '/') next();
        if (peek() === undefined) {
          if (type === 'exact') type = 'prefix';
          else {
            reg += '.*';
            type = 'regexp';
          }
        } else {
          reg += '(.*/)?';
          type = 'regexp';
        }
        if (i === 0) type = 'suffix';
      } else {
        reg += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      reg += '[^/]';
      type = 'regexp';
    } else if ('.+()|{}$'.includes(ch)) {
      reg += `\\${ch}`;
    } else if (ch === '\\') {
      if (peek() !== undefined) {
        reg += `\\${next()}`;
        type = 'regexp';
      } else reg += '\\';
    } else if (ch === '[' || ch === ']') {
      reg += ch;
      type = 'regexp';
    } else reg += ch;
  }
  const bytes = (s: string) => Buffer.from(s, 'utf8');
  switch (type) {
    case 'exact':
      return { kind: type, test: (p) => p === cleaned };
    case 'prefix':
      return { kind: type, test: (p) => p.startsWith(cleaned.slice(0, -2)) }; // strings.HasPrefix(path, cleanedPattern[:len-2])
    case 'suffix': {
      const suffix = bytes(cleaned).subarray(2); // cleanedPattern[2:], on bytes as Go slices it
      return {
        kind: type,
        test: (p) => {
          const b = bytes(p);
          if (b.length >= suffix.length && b.subarray(b.length - suffix.length).equals(suffix)) return true;
          return suffix[0] === 0x2f && b.equals(suffix.subarray(1));
        },
      };
    }
    default: {
      const re = goRegexp(`${reg}$`);
      return { kind: type, regexp: `${reg}$`, test: (p) => re.test(p) };
    }
  }
}

describe('the reference follows current moby/patternmatcher', () => {
  const { compile } = JSON.parse(readFileSync(new URL('../../../test-fixtures/dockerignore/upstream/patternmatcher.json', import.meta.url), 'utf8')) as {
    compile: Array<{ pattern: string; matchType: string; regexp: string }>;
  };
  it("reproduces upstream's TestCompile table", () => {
    for (const t of compile) {
      const r = reference(goClean(t.pattern));
      expect(`${r.kind}Match`, t.pattern).toBe(t.matchType);
      if (t.matchType === 'regexpMatch') expect(r.regexp, t.pattern).toBe(t.regexp);
    }
  });
  it('takes a leading ** without / as a suffix (**.txt ends in .txt)', () => {
    expect(reference('**.txt').kind).toBe('suffix');
    expect(reference('**.txt').test('a/b.txt')).toBe(true);
    expect(reference('**file').test('dir/myfile')).toBe(true);
  });
});

// strata's compiled patterns, fast paths included (`**/*.log`, `**/secret*`, exact/prefix/suffix,
// the candidate and parent pruning of the matcher), must answer as the reference does.
describe('strata equals the reference', () => {
  const atom = fc.constantFrom(
    'a', 'b', '.', 'log', 'secret', '*', '**', '?', '/', '[ab]', '[^a]', '\\*', '\\.', '^', '$', '+', '(', ')', '{', '}', '|', '\uFEFF', '-', 'é', ']', '[[:alpha:]]', '\\d', '\\s', '\\x41', 'x-y',
  );
  const anyPattern = fc.array(atom, { minLength: 1, maxLength: 6 }).map((a) => a.join(''));
  const anyPath = fc
    .array(fc.constantFrom('a', 'b.log', 'secret', 'secret.key', 'xsecret', 'a.b', '.log', 'x-y.log', 'log', 'a\nb', 'A', '¿**', '\uFEFFa', 'a^b', 'é', 'ab'), { minLength: 1, maxLength: 4 })
    .map((s) => s.join('/'));
  it('for any pattern and path (pattern alone, no parents)', () => {
    fc.assert(
      fc.property(anyPattern, anyPath, (text, p) => {
        let m;
        try {
          m = createMatcher([text]);
        } catch {
          return; // rejected: the upstream table and conformance tests cover which patterns are errors
        }
        if (m.patterns.length === 0) return;
        const pat = m.patterns[0];
        const ref = reference(pat.text);
        expect(pat.kind, text).toBe(ref.kind);
        expect(pat.regexp, text).toBe(ref.regexp);
        expect(pat.test(p), `${JSON.stringify(text)} ${JSON.stringify(p)}`).toBe(ref.test(p));
      }),
      { numRuns: 4000 },
    );
  });
  it('the regexp-free shortcuts (**/*<literal>, **/<literal>*) against the plain regexp', () => {
    const lit = fc.constantFrom('a', '.log', 'secret', 'a.b', 'x-y', 'a$', 'é');
    fc.assert(
      fc.property(lit, fc.boolean(), anyPath, (l, star, p) => {
        const text = star ? `**/${l}*` : `**/*${l}`;
        const pat = createMatcher([text]).patterns[0];
        expect(pat.test(p), `${text} ${JSON.stringify(p)}`).toBe(reference(text).test(p));
      }),
      { numRuns: 2000 },
    );
  });
  it('whole matchers (parents, exceptions, pruning) against the reference folded the documented way', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), anyPattern), { maxLength: 4 }), anyPath, (list, p) => {
        const texts = list.map(([neg, t]) => `${neg ? '!' : ''}${t}`);
        let m;
        try {
          m = createMatcher(texts);
        } catch {
          return;
        }
        const refs = m.patterns.map((q) => ({ exclusion: q.exclusion, ...reference(q.text) }));
        const dirs = p.split('/').slice(0, -1).map((_, k, a) => a.slice(0, k + 1).join('/'));
        let want = false;
        for (const r of refs) if (r.test(p) || dirs.some((d) => r.test(d))) want = !r.exclusion;
        expect(m.matches(p), `${JSON.stringify(texts)} ${JSON.stringify(p)}`).toBe(want);
        let info: ParentMatch | undefined;
        for (const d of dirs) info = m.matchInDir(d, info).info;
        expect(m.excludedInDir(p, info)).toBe(want);
      }),
      { numRuns: 3000 },
    );
  });
});

// found by tools/reliability fuzzing: a carriage return in a bad pattern split the message
describe('bad patterns found by fuzzing', () => {
  it('a pattern with a carriage return fails on one line', () => {
    expect(() => createMatcher(readIgnoreFile(' [\r^'))).toThrow(/^[^\r\n]*$/);
  });
});
