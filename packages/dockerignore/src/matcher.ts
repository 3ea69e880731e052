import { compilePattern, type Pattern } from './pattern';
import type { IgnoreLine } from './read-ignore-file';

/** Per-pattern "matched this directory or one of its parents", handed from a directory to its children. */
export type ParentMatch = Uint8Array;

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

  const parentsOf = (path: string): string[] => {
    const out: string[] = [];
    for (let at = path.indexOf('/'); at >= 0; at = path.indexOf('/', at + 1)) out.push(path.slice(0, at));
    return out;
  };

  const explain = (path: string): MatchResult => {
    const parents = parentsOf(path);
    if (options.legacyParentMatching) {
      return decide(path, (i) => {
        const p = patterns[i];
        if (p.test(path)) return true;
        return parents.length > 0 && p.segments <= parents.length && p.test(parents[p.segments - 1]);
      });
    }
    return decide(path, (i) => patterns[i].test(path) || parents.some((d) => patterns[i].test(d)));
  };

  const matchInDir = (path: string, parent: ParentMatch | undefined) => {
    const info = new Uint8Array(n);
    if (options.legacyParentMatching) {
      const r = explain(path);
      for (let i = 0; i < n; i++) info[i] = patterns[i].test(path) ? 1 : 0;
      return { excluded: r.excluded, info };
    }
    let excluded = false;
    for (let i = 0; i < n; i++) {
      const hit = (parent !== undefined && parent[i] === 1) || patterns[i].test(path);
      if (hit) {
        info[i] = 1;
        excluded = !patterns[i].exclusion;
      }
    }
    return { excluded, info };
  };

  return {
    patterns,
    hasExceptions,
    matches: (path) => explain(path).excluded,
    explain,
    matchInDir,
    canSkipDir: (dir) => {
      if (!hasExceptions) return true;
      const prefix = `${dir}/`;
      return !exceptions.some((e) => e.startsWith(prefix));
    },
  };
}

function compilePatternOrSkip(text: string, line: number | undefined, source: string | undefined): Pattern | undefined {
  const p = compilePattern(text, { line, source });
  // TrimSpace("") patterns are dropped by Docker before compiling
  return p.raw === '' ? undefined : p;
}
