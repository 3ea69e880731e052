export { openStore, resolve, normalizeTag, MIN_ID_PREFIX } from './store';
export type { Store, StoredImage } from './store';
export { readIndex, writeIndex, refName } from './index-file';
export { storeLock } from './lock';
export type { StoreLock, LockOptions } from './lock';
export { containersByImage, cacheRoots } from './side-state';
