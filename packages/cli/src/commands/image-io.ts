import type { Nouns } from '../program';
import type { Io } from '../runner';
import { register as registerLoad } from './image-load';
import { register as registerSave } from './image-save';
import { register as registerImport } from './image-import';

export function registerImageIoCommands(nouns: Nouns, io: Io): void {
  registerLoad(nouns.image, io);
  registerSave(nouns.image, io);
  registerImport(nouns.image, io);
}
