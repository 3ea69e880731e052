export {
  containersDir, containerDir, runtimeDir, readContainer, writeContainer, updateContainer, listContainers, findContainer,
  removeContainerDir, imagesInUse, containerRunning, containersUsage,
} from './records';
export type { ContainerRecord, ContainerConfig, ContainerState, MountConfig, NetworkMode, NetworkSettings } from './records';
export { parseVolumeFlag, parseMountFlag, parseTmpfsFlag, parseVolumesFrom, parseBytes } from './flags';
export { createContainer, mergeEnv } from './create';
export type { CreateOptions } from './create';
export { runContainer, startDetached, finishCleanup, monitorFailureLine, DEFAULT_PATH } from './start';
export type { StartOptions, AttachIo } from './start';
export { signalContainer, waitStopped, stopContainer, killContainer, waitContainer } from './stop';
export { removeContainer, pruneContainers } from './remove';
export type { RemoveOptions, PruneContainersResult } from './remove';
export { recover, recoverHost, removeAnonymousVolumes, reconcileVolumeUsers } from './recover';
export type { RecoveryReport, RecoverOptions } from './recover';
export { registerLive, unregisterLive, liveEntries, crashedEntries } from './live';
export type { LiveEntry } from './live';
export { containerLogs, openLog, LOG_FILE, logPath } from './logs';
export type { LogRecord, LogsOptions } from './logs';
export { inspectContainer, containerPorts } from './inspect';
export { containerChanges, execInContainer, commitContainer, exportContainer } from './ops';
export type { ExecOptions, CommitOptions } from './ops';
