import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isStrataError } from '@strata/errors';
import { createMatcher, readIgnoreFile, type Matcher, type ParentMatch } from '../src/index';

const table = JSON.parse(readFileSync(new URL('../../../test-fixtures/dockerignore/conformance.json', import.meta.url), 'utf8')) as {
  cases: Array<{ patterns: string[]; path: string; expected: boolean | 'error'; source: string; note?: string }>;
  ignoreFiles: Array<{ source: string; text: string; patterns: string[] }>;
};

/** The walker's way: fold parent results from the top directory down. */
function incremental(m: Matcher, path: string): boolean {
  const parts = path.split('/').filter((s) => s !== '');
  let info: ParentMatch | undefined;
  let prev: ParentMatch | undefined;
  let excluded = false;
  for (let i = 0; i < parts.length; i++) {
    const r = m.matchInDir(parts.slice(0, i + 1).join('/'), info);
    info = r.info;
    excluded = r.excluded;
    if (i === parts.length - 1) expect(m.excludedInDir(parts.join('/'), i === 0 ? undefined : prev)).toBe(excluded);
    prev = info;
  }
  return excluded;
}

describe('conformance table', () => {
  it('has at least 100 cases', () => {
    expect(table.cases.length).toBeGreaterThanOrEqual(100);
  });
  for (const c of table.cases) {
    it(`${JSON.stringify(c.patterns)} ${JSON.stringify(c.path)} → ${String(c.expected)} (${c.source})`, () => {
      if (c.expected === 'error') {
        let err: unknown;
        try {
          createMatcher(c.patterns);
        } catch (e) {
          err = e;
        }
        expect(isStrataError(err, 'DOCKERIGNORE_SYNTAX')).toBe(true);
        expect((err as Error).message).not.toContain('\n');
        return;
      }
      const m = createMatcher(c.patterns);
      expect(m.matches(c.path)).toBe(c.expected);
      if (c.path !== '.' && !c.path.startsWith('/')) expect(incremental(m, c.path.replace(/\/$/, ''))).toBe(c.expected);
    });
  }
});

describe('ignore-file reading', () => {
  for (const f of table.ignoreFiles) {
    it(f.source, () => {
      expect(readIgnoreFile(f.text).map((l) => l.pattern)).toEqual(f.patterns);
    });
  }
  it('keeps line numbers and reports them for a bad pattern', () => {
    const lines = readIgnoreFile('# head\n\nok\n!\n');
    expect(lines).toEqual([{ pattern: 'ok', line: 3 }, { pattern: '!', line: 4 }]);
    expect(() => createMatcher(lines, { source: '.dockerignore' })).toThrow(/^\.dockerignore:4: bad pattern "!": illegal exclusion pattern/);
    expect(() => createMatcher(readIgnoreFile('a\nb/[x\n'))).toThrow(/:2: bad pattern "b\/\[x": syntax error in pattern/);
  });
});

describe('compiled kinds (moby/patternmatcher TestCompile)', () => {
  const kinds: Array<[string, string]> = [
    ['*', 'regexp'], ['file*', 'regexp'], ['*.txt', 'regexp'], ['**/**/*.txt', 'regexp'], ['dir/**', 'prefix'],
    ['**/dir', 'suffix'], ['**', 'suffix'], ['abc.def', 'exact'], ['a\\*b', 'regexp'], ['a[b]c', 'regexp'], ['**/foo/**', 'regexp'],
    // a leading ** without / is a suffix match too (Docker 20.10 compiled every pattern to a regexp)
    ['**file', 'suffix'], ['**.txt', 'suffix'], ['**/*.txt', 'regexp'], ['a^b', 'exact'], ['a(b)c', 'exact'], ['\uFEFF*.md', 'regexp'],
  ];
  for (const [p, kind] of kinds) {
    it(`${p} is ${kind}`, () => {
      expect(createMatcher([p]).patterns[0].kind).toBe(kind);
    });
  }
});

describe('walker pruning rule', () => {
  it('skips an excluded directory unless an exception starts with it', () => {
    const m = createMatcher(['*', '!**/*.py', '!keep/this']);
    expect(m.canSkipDir('src')).toBe(true);
    expect(m.canSkipDir('keep')).toBe(false);
    expect(m.canSkipDir('kee')).toBe(true);
    expect(createMatcher(['a']).canSkipDir('a')).toBe(true);
  });
  it('explains which pattern decided', () => {
    const m = createMatcher(readIgnoreFile('*.md\n!README*.md\nREADME-secret.md\n'));
    expect(m.explain('README-secret.md')).toMatchObject({ excluded: true, decidedBy: { line: 3 } });
    expect(m.explain('README.md')).toMatchObject({ excluded: false, decidedBy: { line: 2, exclusion: true } });
    expect(m.explain('x.txt')).toEqual({ excluded: false });
  });
  it('legacy (Docker 20.10) parent matching only looks at the same-depth parent', () => {
    const legacy = createMatcher(['**/foo'], { legacyParentMatching: true });
    expect(legacy.matches('x/y/foo/z')).toBe(false);
    expect(createMatcher(['**/foo']).matches('x/y/foo/z')).toBe(true);
  });
});
