export { ensureSnapshots, listSnapshots, removeSnapshot, snapshotUnpackCount, snapshotsDir, readSnapshotMeta } from './snapshots';
export type { Snapshot } from './snapshots';
export { writableLayer } from './writable';
export type { WritableLayer, RootfsSpec } from './writable';
export { upperChanges, copyChanges, upperEntries, writeLayerFile } from './capture';
export { overlaySupported, buildCopyRootfs } from './copy';
export { runOnLayers } from './run-on-layers';
export type { RunOnLayersOptions, RunOnLayersResult, ExecContext } from './run-on-layers';
export {
  containersDir, containerDir, readContainer, writeContainer, updateContainer, listContainers, findContainer,
  removeContainerDir, recoverContainers, snapshotsInUse, pruneSnapshots, killRuntimeContainer,
} from './containers';
export type { ContainerRecord, ContainerConfig, ContainerState, RecoveryReport } from './containers';
export { currentOwner, ownerAlive, ownerOf } from './owner';
export type { Owner } from './owner';
export { readTreeXattrs } from './xattrs';
export { lowerView } from './lower-view';
export type { LowerDir, ViewEntry } from './lower-view';
