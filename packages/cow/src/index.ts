export { commitSnapshot, ensureSnapshots, listSnapshots, removeSnapshot, snapshotUnpackCount, snapshotsDir, readSnapshotMeta } from './snapshots';
export type { Snapshot } from './snapshots';
export {
  createWritableLayer, adoptWritableLayer, writableLayer, removeWritableLayer, listWritableLayers, recoverWritableLayers, writableDir,
  writableSnapshotsPresent, ensureWritableSnapshots, snapshotsInUse, pruneSnapshots,
} from './writable';
export type { WritableLayer, WritableLayerRecord, CreateWritableOptions, WritableRecovery, RootfsSpec } from './writable';
export { CAPTURE_TAR_OPTIONS, upperChanges, copyChanges, upperEntries, upperNotes, writeLayerFile } from './capture';
export type { UpperNotes } from './capture';
export { overlaySupported, buildCopyRootfs } from './copy';
export { runOnLayers } from './run-on-layers';
export type { RunOnLayersOptions, RunOnLayersResult, ExecContext, CommitOptions } from './run-on-layers';
export { currentOwner, ownerAlive, ownerOf } from './owner';
export type { Owner } from './owner';
export { readTreeXattrs } from './xattrs';
export { lowerView } from './lower-view';
export type { LowerDir, ViewEntry } from './lower-view';
