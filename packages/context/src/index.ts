export * from './walk';
export { contentDigests, entryHeader, hashFile } from './content-digests';
export type { ContextDigests, DigestEntry, DigestOptions } from './content-digests';
export { digestContext } from './digest-context';
export type { DigestContextResult } from './digest-context';
export { openStatCache, RACY_WINDOW_MS } from './stat-cache';
export type { StatCache, StatKey } from './stat-cache';
export { createMatcher as compileExcludes } from '@strata/dockerignore';
