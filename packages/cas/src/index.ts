export { openBlobStore, OCI_LAYOUT } from './blob-store';
export type { BlobStore, BlobStoreOptions, Checkpoint, PutOptions } from './blob-store';
export { atomicWrite, fsyncDir, tempName } from './atomic-write';
export type { AtomicWriteOptions } from './atomic-write';
export { pidAlive, processStartTime } from './lease';
export { earlyWriteback, WRITEBACK_STEP } from './writeback';
export type { EarlyWriteback } from './writeback';
