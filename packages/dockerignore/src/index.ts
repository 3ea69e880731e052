export { readIgnoreFile } from './read-ignore-file';
export type { IgnoreLine } from './read-ignore-file';
export { compilePattern, patternSyntaxError } from './pattern';
export type { Pattern, PatternKind, PatternOrigin } from './pattern';
export { createMatcher } from './matcher';
export type { Matcher, MatcherOptions, MatchResult, ParentMatch, PatternInput } from './matcher';
export { goClean, goTrimSpace } from './go-path';
