import { listVolumes, removeVolume, volumeSize, volumeUsers } from './volumes';
import { matchVolume, type VolumeFilter } from './filters';

export interface PruneVolumesOptions {
  /** Named volumes too (current Docker prunes only anonymous ones without --all; 20.10 prunes all). */
  all?: boolean;
  filters?: readonly VolumeFilter[];
}

export interface PruneVolumesResult {
  removed: string[];
  /** Bytes of the removed volumes' files. */
  bytes: number;
}

/** `volume prune`: every volume no container uses, anonymous ones only unless `all`, filtered by label. */
export function pruneVolumes(root: string, o: PruneVolumesOptions = {}): PruneVolumesResult {
  const out: PruneVolumesResult = { removed: [], bytes: 0 };
  for (const v of listVolumes(root)) {
    if (!o.all && !v.anonymous) continue;
    if (volumeUsers(root, v.name).length) continue;
    if (!matchVolume(v, o.filters ?? [], () => [])) continue;
    const size = volumeSize(v);
    removeVolume(root, v.name);
    out.removed.push(v.name);
    out.bytes += size;
  }
  return out;
}
