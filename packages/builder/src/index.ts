export { build } from './build-registry';
export type { BuildOptions, BuildResult, ProgressEvent, StepReport, SecretSource } from './types';
export { createProgressPrinter } from './progress';
export type { ProgressMode } from './progress';
