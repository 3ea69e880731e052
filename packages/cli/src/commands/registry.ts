import type { Nouns } from '../program';
import type { Io } from '../runner';
import { register as registerPull } from './image-pull';
import { register as registerPush } from './image-push';
import { register as registerTags } from './image-tags';
import { register as registerCopy } from './image-copy';
import { register as registerLogin } from './login';

/** Registry commands: `image pull|push|tags|digest|copy`, `login`, `logout`, and `pull`/`push` as Docker's habit has them. */
export function registerRegistryCommands(nouns: Nouns, io: Io): void {
  registerPull(nouns.image, io);
  registerPush(nouns.image, io);
  registerTags(nouns.image, io);
  registerCopy(nouns.image, io);
  registerLogin(nouns.program, io);
  registerPull(nouns.program, io);
  registerPush(nouns.program, io);
}
