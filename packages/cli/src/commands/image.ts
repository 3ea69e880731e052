import type { Nouns } from '../program';
import type { Io } from '../runner';
import { register as registerLs } from './image-ls';
import { register as registerTag } from './image-tag';
import { register as registerRm } from './image-rm';
import { register as registerPrune } from './image-prune';

export function registerImageCommands(nouns: Nouns, io: Io): void {
  registerLs(nouns.image, io);
  registerTag(nouns.image, io);
  registerRm(nouns.image, io);
  registerPrune(nouns.image, io);
}
