// Run by every strata command before it does anything, so it imports almost nothing: a readdir
// of the live registry and, for each entry, one /proc read. Only when a crash left something
// does the caller load the rest of this package (`recoverHost`).
export { crashedEntries as crashedContainers } from './live';
