export { build } from './build';
export type { BuildOptions, BuildResult, ProgressEvent, StepReport, SecretSource } from './types';
export { createProgressPrinter } from './progress';
export type { ProgressMode } from './progress';
