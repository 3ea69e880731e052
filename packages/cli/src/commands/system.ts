import type { Nouns } from '../program';
import type { Io } from '../runner';
import { register as registerDf } from './system-df';
import { register as registerPrune } from './system-prune';

export function registerSystemCommands(nouns: Nouns, io: Io): void {
  registerDf(nouns.system, io);
  registerPrune(nouns.system, io);
}
