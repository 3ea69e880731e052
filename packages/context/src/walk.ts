// `@strata/context/walk`: the walk and .dockerignore loading without the content digests, so a
// caller that only lists (`strata context ls`, `context check`) does not load node:crypto.
export { loadIgnore } from './load-ignore';
export type { IgnoreMatcher, LoadIgnoreOptions } from './load-ignore';
export { listContext, listContextNames, typeOfMode, visitContext, visitContextNames } from './walk-context';
export type { ContextEntry, ContextName, EntryType, WalkOptions } from './walk-context';
export { checkPath } from './check-path';
export type { PathCheck } from './check-path';
