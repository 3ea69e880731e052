import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMatcher, type ParentMatch } from '../src/index';

// The walker's incremental answers (per-depth candidate patterns + parent results) must equal the
// plain "it or any parent matches, last match wins" evaluation for any patterns and paths.
const seg = fc.constantFrom('a', 'b', 'ab', '.x', 'a.md', 'node_modules', 'keep');
const patSeg = fc.constantFrom('a', 'b', '*', '**', 'a*', '?b', '*.md', '[ab]', '[^a]', 'keep', 'node_modules', '.*');
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
      }),
      { numRuns: 3000 },
    );
  });
});

// `**/*.log` and `**/secret*` skip the regexp; their answers must equal the regexp Docker compiles
// (`**/` → `(.*/)?`, `*` → `[^/]*`).
describe('regexp-free fast paths', () => {
  const lit = fc.constantFrom('a', '.log', 'secret', 'a.b', 'x-y');
  const anyPath = fc.array(fc.constantFrom('a', 'b.log', 'secret', 'secret.key', 'xsecret', 'a.b', '.log', 'x-y.log', 'log'), { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  it('**/<literal>* and **/*<literal> equal their regexps', () => {
    fc.assert(
      fc.property(lit, fc.boolean(), anyPath, (l, star, p) => {
        const text = star ? `**/${l}*` : `**/*${l}`;
        const re = new RegExp(star ? `^(?:.*/)?${esc(l)}[^/]*$` : `^(?:.*/)?[^/]*${esc(l)}$`);
        expect(createMatcher([text]).patterns[0].test(p), `${text} ${p}`).toBe(re.test(p));
      }),
      { numRuns: 2000 },
    );
  });
});
