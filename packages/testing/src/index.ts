export { tempDir, cleanupTempDirs, writeTree, hashTree } from './tmp';
export type { TreeSpec } from './tmp';
export { runStrata, runCommand, REPO_ROOT, STRATA_BIN } from './cli';
export type { CliResult, RunOptions } from './cli';
export { DOCKER, peerAvailable, docker, dockerOk } from './peers';
export { BUSYBOX_BIN, BUSYBOX_TAG, busyboxRootfsTar, ensureDockerBusybox } from './busybox';
export { FIXTURE_LAST_MODIFIED, serveFixtureDir } from './http-fixture';
export type { FixtureServer } from './http-fixture';
export { processesMentioning } from './processes';
