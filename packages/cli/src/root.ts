import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Store root: --root, else $STRATA_ROOT, else $XDG_DATA_HOME/strata, else ~/.local/share/strata. */
export function resolveRoot(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag);
  if (env.STRATA_ROOT) return resolve(env.STRATA_ROOT);
  if (env.XDG_DATA_HOME) return join(resolve(env.XDG_DATA_HOME), 'strata');
  return join(homedir(), '.local', 'share', 'strata');
}
