import type { Nouns } from '../program';
import type { Io } from '../runner';
import { register as registerCreate } from './volume-create';
import { register as registerLs } from './volume-ls';
import { register as registerInspect } from './volume-inspect';
import { register as registerRm } from './volume-rm';
import { register as registerPrune } from './volume-prune';
import { register as registerTransfer } from './volume-transfer';

export function registerVolumeCommands(nouns: Nouns, io: Io): void {
  registerCreate(nouns.volume, io);
  registerLs(nouns.volume, io);
  registerInspect(nouns.volume, io);
  registerRm(nouns.volume, io);
  registerPrune(nouns.volume, io);
  registerTransfer(nouns.volume, io);
}
