import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isStrataError } from '@strata/errors';
import { createMatcher, goClean, readIgnoreFile, type Matcher, type ParentMatch } from '../src/index';

// The test data of moby/patternmatcher's own tests and of docker/cli's .dockerignore matching tests,
// extracted by tools/goldens/dockerignore-upstream.mjs (see test-fixtures/dockerignore/upstream/README.md).
// Each upstream assertion runs against strata's API; where strata deliberately answers differently,
// the exception is listed here with its reason and the test asserts strata's answer instead.
const dir = new URL('../../../test-fixtures/dockerignore/upstream/', import.meta.url);
const load = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as T;

interface Upstream {
  repo: string;
  commit: string;
  file: string;
}
const pm = load<{
  upstream: Upstream;
  matches: Array<{ pattern: string; text: string; pass: boolean }>;
  multiPattern: Array<{ patterns: string[]; text: string; pass: boolean }>;
  calls: Array<{ test: string; file: string; patterns: string[]; expect: boolean | 'error' }>;
  clean: Array<{ test: string; patterns: string[]; count?: number; exclusions?: boolean; error?: boolean }>;
  match: Array<{ pattern: string; s: string; match: boolean; err: string | null }>;
  compile: Array<{ pattern: string; matchType: string; regexp: string; windowsRegexp: string }>;
  malformed: Array<{ test: string; patterns: string[]; file: string; calls: number }>;
}>('patternmatcher.json');
const ignorefile = load<{ upstream: Upstream; cases: Array<{ test: string; input: string | null; patterns: string[] }> }>('ignorefile.json');
const cli = load<{ upstream: Upstream; cases: Array<{ test: string; patterns: string[]; file: string; expect: boolean }> }>('docker-cli.json');

/** Deliberate exceptions (each is asserted below as strata's behaviour, not skipped). */
const EXCEPTIONS = {
  lazyRegexpError:
    'Docker compiles a pattern\'s regexp at its first match: New() accepts "[Local-Only]/" and every MatchesOrParentMatches call returns ErrBadPattern. ' +
    'strata compiles it when the matcher is made, so createMatcher throws DOCKERIGNORE_SYNTAX; either way the build fails, and strata says so before walking the context.',
  windowsCompile:
    "TestCompile's second column is the regexp for Windows (`\\` separators); strata matches slash-separated paths only, so only the slash column is checked.",
  errorValue:
    'upstream compares the error with filepath.ErrBadPattern ("syntax error in pattern") or checks it is non-nil; strata raises StrataError DOCKERIGNORE_SYNTAX carrying that text.',
  nilReader: 'ignorefile.ReadAll(nil) has no reader; strata reads text, and the empty text stands for it.',
};

/** Docker's parent walk: `filepath.Dir(text)` split at `/`, joined back one segment at a time. */
function parents(text: string): string[] {
  const d = goClean(text.slice(0, text.lastIndexOf('/') + 1));
  if (d === '.') return [];
  const parts = d.split('/');
  return parts.map((_, k) => parts.slice(0, k + 1).join('/'));
}

function expectBadPattern(patterns: string[], message: RegExp): void {
  let err: unknown;
  try {
    createMatcher(patterns);
  } catch (e) {
    err = e;
  }
  expect(isStrataError(err, 'DOCKERIGNORE_SYNTAX'), String(err)).toBe(true);
  expect((err as Error).message).toMatch(message);
}

/** TestMatches' four ways of asking, as strata offers them. */
function variants(m: Matcher, text: string, single: boolean): Record<string, boolean> {
  const out: Record<string, boolean> = { MatchesOrParentMatches: m.matches(text) };
  // MatchesUsingParentResults: the parents' results handed down, as a walker does
  let info: ParentMatch | undefined;
  for (const p of parents(text)) info = m.matchInDir(p, info).info;
  out.MatchesUsingParentResults = m.matchInDir(text, info).excluded;
  out['MatchesUsingParentResults (leaf form)'] = m.excludedInDir(text, info);
  // …NoContext: no parent results at all
  out.MatchesUsingParentResultsNoContext = m.matchInDir(text, undefined).excluded;
  out['MatchesUsingParentResultsNoContext (leaf form)'] = m.excludedInDir(text, undefined);
  if (single) {
    // The deprecated MatchesUsingParentResult (one boolean handed down) has no strata API: its fold
    // is done here, over strata's compiled patterns.
    const fold = (path: string, parentMatched: boolean) => {
      let matched = parentMatched;
      for (const p of m.patterns) if (p.exclusion === matched && p.test(path)) matched = !p.exclusion;
      return matched;
    };
    let parentMatched = false;
    for (const p of parents(text)) parentMatched = fold(p, parentMatched);
    out.MatchesUsingParentResult = fold(text, parentMatched);
  }
  return out;
}

const { upstream } = pm;
const runs = pm.matches.length + pm.multiPattern.length + pm.calls.length + pm.clean.length + pm.match.length + pm.compile.length + pm.malformed.length;

describe(`${upstream.repo}@${upstream.commit.slice(0, 12)} ${upstream.file} (${runs} cases)`, () => {
  describe('TestMatches', () => {
    for (const t of pm.matches) {
      it(`${JSON.stringify(t.pattern)} ${JSON.stringify(t.text)} → ${t.pass}`, () => {
        const got = variants(createMatcher([t.pattern]), t.text, true);
        for (const [how, v] of Object.entries(got)) expect(v, how).toBe(t.pass);
      });
    }
    for (const t of pm.multiPattern) {
      it(`${JSON.stringify(t.patterns)} ${JSON.stringify(t.text)} → ${t.pass}`, () => {
        const got = variants(createMatcher(t.patterns), t.text, false);
        for (const [how, v] of Object.entries(got)) expect(v, how).toBe(t.pass);
      });
    }
  });

  describe('package-level Matches (deprecated parent matching), one-call tests', () => {
    for (const c of pm.calls) {
      it(`${c.test}: Matches(${JSON.stringify(c.file)}, ${JSON.stringify(c.patterns)}) → ${c.expect}`, () => {
        if (c.expect === 'error') {
          // see EXCEPTIONS.errorValue
          expectBadPattern(c.patterns, c.patterns.includes('!') ? /illegal exclusion pattern/ : /syntax error in pattern/);
          return;
        }
        // Matches cleans the path first; the deprecated parent rule is strata's legacyParentMatching
        expect(createMatcher(c.patterns, { legacyParentMatching: true }).matches(goClean(c.file))).toBe(c.expect);
        expect(createMatcher(c.patterns).matches(goClean(c.file)), 'current parent matching agrees here').toBe(c.expect);
      });
    }
  });

  describe('TestCleanPatterns*: New()', () => {
    for (const c of pm.clean) {
      it(`${c.test} ${JSON.stringify(c.patterns)}`, () => {
        if (c.error) return expectBadPattern(c.patterns, /illegal exclusion pattern/);
        const m = createMatcher(c.patterns);
        if (c.count !== undefined) expect(m.patterns.length).toBe(c.count);
        if (c.exclusions) expect(m.hasExceptions).toBe(true);
      });
    }
  });

  describe('TestMatch (Go filepath.Match vectors through the deprecated Matches)', () => {
    for (const t of pm.match) {
      it(`${JSON.stringify(t.pattern)} ${JSON.stringify(t.s)} → ${t.err ?? t.match}`, () => {
        if (t.err !== null) return expectBadPattern([t.pattern], /syntax error in pattern/); // see EXCEPTIONS.errorValue
        expect(createMatcher([t.pattern], { legacyParentMatching: true }).matches(goClean(t.s))).toBe(t.match);
      });
    }
  });

  describe('TestCompile (match type and Go regexp)', () => {
    const KIND: Record<string, string> = { exactMatch: 'exact', prefixMatch: 'prefix', suffixMatch: 'suffix', regexpMatch: 'regexp' };
    for (const t of pm.compile) {
      it(`${t.pattern} is ${t.matchType}${t.matchType === 'regexpMatch' ? ` ${t.regexp}` : ''} (${EXCEPTIONS.windowsCompile})`, () => {
        const p = createMatcher([goClean(t.pattern)]).patterns[0];
        expect(p.kind).toBe(KIND[t.matchType]);
        if (t.matchType === 'regexpMatch') expect(p.regexp).toBe(t.regexp);
      });
    }
  });

  describe('malformed patterns that pass New()', () => {
    for (const t of pm.malformed) {
      it(`${t.test}: ${JSON.stringify(t.patterns)} is rejected when the matcher is made (exception: ${EXCEPTIONS.lazyRegexpError})`, () => {
        expectBadPattern(t.patterns, /syntax error in pattern/);
        // and again: compiling is stateless, the second attempt fails the same way (upstream: no panic on the second call)
        expectBadPattern(t.patterns, /syntax error in pattern/);
      });
    }
  });
});

describe(`${ignorefile.upstream.repo}@${ignorefile.upstream.commit.slice(0, 12)} ${ignorefile.upstream.file} (${ignorefile.cases.length} cases)`, () => {
  for (const c of ignorefile.cases) {
    it(`${c.test}: ${c.input === null ? `no reader (${EXCEPTIONS.nilReader})` : JSON.stringify(c.input)}`, () => {
      expect(readIgnoreFile(c.input ?? '').map((l) => l.pattern)).toEqual(c.patterns);
    });
  }
});

describe(`${cli.upstream.repo}@${cli.upstream.commit.slice(0, 12)} ${cli.upstream.file} (${cli.cases.length} cases)`, () => {
  for (const c of cli.cases) {
    it(`${c.test}: filepathMatches(${JSON.stringify(c.patterns)}, ${JSON.stringify(c.file)}) → ${c.expect}`, () => {
      // filepathMatches: Clean the path, "." is never excluded, then MatchesOrParentMatches
      expect(createMatcher(c.patterns).matches(goClean(c.file))).toBe(c.expect);
    });
  }
});

describe('upstream data is complete', () => {
  it('holds every table row of the pinned commits', () => {
    expect({
      matches: pm.matches.length,
      multiPattern: pm.multiPattern.length,
      calls: pm.calls.length,
      clean: pm.clean.length,
      match: pm.match.length,
      compile: pm.compile.length,
      malformed: pm.malformed.length,
      ignorefile: ignorefile.cases.length,
      dockerCli: cli.cases.length,
    }).toEqual({ matches: 68, multiPattern: 4, calls: 11, clean: 6, match: 54, compile: 21, malformed: 1, ignorefile: 2, dockerCli: 9 });
  });
});
