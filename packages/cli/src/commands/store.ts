import type { Nouns } from '../program';
import type { Io } from '../runner';
import { register as registerCheck } from './store-check';
import { register as registerGc } from './store-gc';
import { register as registerDu } from './store-du';

export function registerStoreCommands(nouns: Nouns, io: Io): void {
  registerCheck(nouns.store, io);
  registerGc(nouns.store, io);
  registerDu(nouns.store, io);
}
