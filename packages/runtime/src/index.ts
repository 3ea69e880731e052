export { runProcess, deleteRuntimeState, runtimeKill } from './run';
export type { RunProcessOptions, RunProcessResult, RootfsSpec } from './run';
export { buildSpec, DEFAULT_CAPABILITIES } from './spec';
export type { MountSpec, NetworkMode, SpecOptions } from './spec';
export { resolveUser, parsePasswd, parseGroup } from './user';
export type { ResolvedUser } from './user';
export { findRuntime } from './find-runtime';
export { lookupInLayers, readFileInLayers } from './layered-lookup';
