export { createProgram, runProgram, VERSION } from './program';
export type { Nouns } from './program';
export { action, collect, render, reportError } from './runner';
export type { CommandContext, CommandResult, GlobalOptions, Io } from './runner';
export { renderTable, humanSize, humanAgo } from './table';
export { resolveRoot } from './root';
