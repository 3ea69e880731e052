import type { Nouns } from '../program';
import type { Io } from '../runner';
import { register as registerBuild } from './build-run';
import { register as registerPrune } from './build-prune';
import { register as registerDu } from './build-du';

export function registerBuildCommands(nouns: Nouns, io: Io): void {
  const build = registerBuild(nouns.build, io);
  registerPrune(build, io);
  registerDu(build, io);
}
