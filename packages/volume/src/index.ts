export {
  createVolume, getVolume, findVolume, listVolumes, inspectVolume, removeVolume, volumeUsers, addVolumeUser, removeVolumeUser,
  volumeIsEmpty, volumeSize, treeBytes, volumesUsage, volumesDir, checkVolumeName, createdAt, cleanVolumeTemps, ANONYMOUS_LABEL,
} from './volumes';
export type { Volume, VolumeRecord, VolumeInspect, CreateVolumeOptions } from './volumes';
export { parseVolumeFilters, matchVolume } from './filters';
export type { VolumeFilter } from './filters';
export { pruneVolumes } from './prune';
export type { PruneVolumesOptions, PruneVolumesResult } from './prune';
export { exportVolume, importVolume } from './transfer';
