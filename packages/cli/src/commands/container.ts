import type { Nouns } from '../program';
import type { Io } from '../runner';
import { register as registerRun } from './container-run';
import { register as registerLs } from './container-ls';
import { register as registerStop } from './container-stop';
import { register as registerRm } from './container-rm';
import { register as registerLogs } from './container-logs';
import { register as registerDiff } from './container-diff';
import { register as registerCommit } from './container-commit';
import { register as registerExport } from './container-export';
import { register as registerPrune } from './container-prune';
import { register as registerInspect } from './container-inspect';
import { register as registerExec } from './container-exec';

export function registerContainerCommands(nouns: Nouns, io: Io): void {
  // `container run IMAGE sh -c …`: options after the image belong to the command.
  nouns.container.enablePositionalOptions();
  registerRun(nouns.container, io);
  registerLs(nouns.container, io);
  registerStop(nouns.container, io);
  registerRm(nouns.container, io);
  registerLogs(nouns.container, io);
  registerDiff(nouns.container, io);
  registerCommit(nouns.container, io);
  registerExport(nouns.container, io);
  registerPrune(nouns.container, io);
  registerInspect(nouns.container, io);
  registerExec(nouns.container, io);
}
