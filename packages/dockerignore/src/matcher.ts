import { goClean } from './go-path';
import { compilePattern, type Pattern } from './pattern';
import type { IgnoreLine } from './read-ignore-file';

/**
 * What a directory hands to its children: per pattern, "matched this directory or one of its
 * parents", and which patterns can match a child at all (computed once per directory, not per child).
 */
export interface ParentMatch {
  readonly hits: Uint8Array;
  /** The highest index in `hits` that is set, -1 for none (the pattern that decided the directory). */
  readonly lastHit: number;
  readonly childCandidates: Int32Array;
}

export interface MatchResult {
  excluded: boolean;
  /** The last pattern that matched the path or a parent (it decided), if any. */
  decidedBy?: Pattern;
}

export interface MatcherOptions {
  /** The file the patterns came from, for error messages. */
  source?: string;
  /**
   * Reproduce the parent matching of Docker 20.10's BuildKit context sender (the deprecated
   * `PatternMatcher.Matches`: only the parent prefix with as many segments as the pattern counts).
   * Default: current Docker, where any parent directory counts (`MatchesOrParentMatches`).
   */
  legacyParentMatching?: boolean;
}

export interface Matcher {
  readonly patterns: readonly Pattern[];
  /** What decides the answers, as text (the patterns and the matching mode): equal keys, equal answers. */
  readonly key: string;
  /** Any `!` exception among the patterns. */
  readonly hasExceptions: boolean;
  /** Is this slash-separated relative path excluded (it or any parent matched, last match wins)? */
  matches(path: string): boolean;
  /** `matches` plus the deciding pattern. */
  explain(path: string): MatchResult;
  /**
   * The incremental form for walkers: pass the `ParentMatch` returned for the path's directory
   * (undefined for entries of the root). Same answer as `explain`, without re-testing parents.
   */
  matchInDir(path: string, parent: ParentMatch | undefined): { excluded: boolean; info: ParentMatch };
  /** `matchInDir` for a leaf (a file): no per-pattern results are kept. */
  excludedInDir(path: string, parent: ParentMatch | undefined): boolean;
  /**
   * For an excluded directory: may a walker skip it entirely? Docker's context walker enters an
   * excluded directory only when an exception pattern, as written, starts with `<dir>/`.
   */
  canSkipDir(dir: string): boolean;
}

export type PatternInput = string | IgnoreLine;

/** Compile patterns once (raising DOCKERIGNORE_SYNTAX with the line of a bad one). */
export function createMatcher(inputs: readonly PatternInput[], options: MatcherOptions = {}): Matcher {
  const patterns: Pattern[] = [];
  for (const input of inputs) {
    const text = typeof input === 'string' ? input : input.pattern;
    const line = typeof input === 'string' ? undefined : input.line;
    const p = compilePatternOrSkip(text, line, options.source);
    if (p) patterns.push(p);
  }
  const n = patterns.length;
  const exceptions = patterns.filter((p) => p.exclusion).map((p) => `${p.text}/`);
  const hasExceptions = exceptions.length > 0;

  const decide = (path: string, hit: (i: number) => boolean): MatchResult => {
    for (let i = n - 1; i >= 0; i--) {
      if (hit(i)) return { excluded: !patterns[i].exclusion, decidedBy: patterns[i] };
    }
    return { excluded: false };
  };

  const explain = (path: string): MatchResult => {
    // The context root is never excluded (patternmatcher's Matches/MatchesOrParentMatches, docker/cli).
    if (path === '.' || path === '') return { excluded: false };
    const parents = parentDirs(path);
    if (options.legacyParentMatching) {
      return decide(path, (i) => {
        const p = patterns[i];
        if (p.test(path)) return true;
        return parents.length > 0 && p.segments <= parents.length && p.test(parents[p.segments - 1]);
      });
    }
    return decide(path, (i) => patterns[i].test(path) || parents.some((d) => patterns[i].test(d)));
  };

  // Which patterns can match a path at all, by its depth and first segment: a pattern without `**`
  // (and not a `dir/**` prefix) matches only paths with as many segments as it has, and a pattern
  // whose first segment is literal only paths starting with it. Parents are covered by ParentMatch.
  const shape = patterns.map((p) => {
    // a class or a Go escape (`[^x]`, `\\W`) can match `/` in Docker's regexp, so those may span segments too
    const anyDepth = p.kind === 'prefix' || p.kind === 'suffix' || /\*\*|\[|\\/.test(p.text);
    const first = p.text.split('/')[0];
    // (a leading BOM is skipped by Docker's regexp compiler but not by its exact test: no shortcut then)
    const literalFirst = !/[*?[\\\uFEFF]/.test(first) && p.kind !== 'suffix' ? first : undefined;
    return { anyDepth, literalFirst };
  });
  const candidates = new Map<string, Int32Array>();
  const candidatesByShape = (depth: number, first: string): Int32Array => {
    const key = `${depth}/${first}`;
    let c = candidates.get(key);
    if (c === undefined) {
      const list: number[] = [];
      for (let i = 0; i < n; i++) {
        const sh = shape[i];
        if (!sh.anyDepth && patterns[i].segments !== depth) continue;
        if (sh.literalFirst !== undefined && sh.literalFirst !== first) continue;
        list.push(i);
      }
      c = Int32Array.from(list);
      if (candidates.size < 4096) candidates.set(key, c);
    }
    return c;
  };
  /** [depth, first segment] of a path. */
  const shapeOf = (path: string): [number, string] => {
    let depth = 1;
    let firstEnd = -1;
    for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
      if (firstEnd < 0) firstEnd = i;
      depth++;
    }
    return [depth, firstEnd < 0 ? path : path.slice(0, firstEnd)];
  };
  // the candidates for a path: its directory computed them (children share depth and first segment)
  const candidatesFor = (path: string, parent: ParentMatch | undefined): Int32Array => {
    if (parent !== undefined) return parent.childCandidates;
    const [depth, first] = shapeOf(path);
    return candidatesByShape(depth, first);
  };
  const noCandidates = new Int32Array(0);

  const matchInDir = (path: string, parent: ParentMatch | undefined) => {
    const hits = new Uint8Array(n);
    if (options.legacyParentMatching) {
      const r = explain(path);
      for (let i = 0; i < n; i++) hits[i] = patterns[i].test(path) ? 1 : 0;
      return { excluded: r.excluded, info: { hits, lastHit: -1, childCandidates: noCandidates } };
    }
    if (parent !== undefined) hits.set(parent.hits);
    else if (path.includes('/')) {
      // no parent results for a path below the root: test its parents too (MatchesUsingParentResults
      // given an empty MatchInfo)
      const parents = parentDirs(path);
      for (let i = 0; i < n; i++) if (parents.some((d) => patterns[i].test(d))) hits[i] = 1;
    }
    for (const i of candidatesFor(path, parent)) if (hits[i] === 0 && patterns[i].test(path)) hits[i] = 1;
    let lastHit = n - 1;
    while (lastHit >= 0 && hits[lastHit] === 0) lastHit--;
    const excluded = lastHit >= 0 && !patterns[lastHit].exclusion;
    const [depth, first] = shapeOf(path);
    return { excluded, info: { hits, lastHit, childCandidates: candidatesByShape(depth + 1, first) } };
  };

  const excludedInDir = (path: string, parent: ParentMatch | undefined): boolean => {
    if (options.legacyParentMatching || (parent === undefined && path.includes('/'))) return explain(path).excluded;
    // The last pattern that matched a parent or matches the path decides: only candidates after
    // the parents' last hit can change the answer (candidates are in ascending order).
    const c = candidatesFor(path, parent);
    const lastHit = parent === undefined ? -1 : parent.lastHit;
    for (let k = c.length - 1; k >= 0 && c[k] > lastHit; k--) {
      if (patterns[c[k]].test(path)) return !patterns[c[k]].exclusion;
    }
    return lastHit >= 0 && !patterns[lastHit].exclusion;
  };

  return {
    patterns,
    key: `${options.legacyParentMatching ? 'legacy' : 'current'} ${SEMANTICS}\n${patterns.map((p) => `${p.exclusion ? '!' : ''}${p.text}`).join('\n')}`,
    hasExceptions,
    matches: (path) => explain(path).excluded,
    explain,
    matchInDir,
    excludedInDir,
    canSkipDir: (dir) => {
      if (!hasExceptions) return true;
      const prefix = `${dir}/`;
      return !exceptions.some((e) => e.startsWith(prefix));
    },
  };
}

/**
 * Names the matching rules in `key` (walk caches on disk are keyed by it): moby/patternmatcher at
 * this commit. Change it whenever an answer for the same patterns changes.
 */
const SEMANTICS = 'patternmatcher@5a6d842';

/**
 * The parent directories Docker tests a path's patterns against: `filepath.Dir(path)` split at `/`
 * and joined back one segment at a time (none when the directory is `.`).
 */
function parentDirs(path: string): string[] {
  const dir = goClean(path.slice(0, path.lastIndexOf('/') + 1));
  if (dir === '.') return [];
  const parts = dir.split('/');
  return parts.map((_, k) => parts.slice(0, k + 1).join('/'));
}

function compilePatternOrSkip(text: string, line: number | undefined, source: string | undefined): Pattern | undefined {
  const p = compilePattern(text, { line, source });
  // TrimSpace("") patterns are dropped by Docker before compiling
  return p.raw === '' ? undefined : p;
}
