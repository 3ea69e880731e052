import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { StrataError } from '@strata/errors';

const KNOWN = ['runc', 'crun'];

/**
 * The OCI runtime binary: `name` (a command on PATH or a path), else `$STRATA_RUNTIME`,
 * else the first of runc, crun found on PATH.
 */
export function findRuntime(name?: string, env: NodeJS.ProcessEnv = process.env): string {
  const wanted = name || env.STRATA_RUNTIME;
  const candidates = wanted ? [wanted] : KNOWN;
  for (const c of candidates) {
    const found = which(c, env.PATH ?? '');
    if (found) return found;
  }
  throw new StrataError('RUNTIME_NOT_FOUND', wanted ? `OCI runtime "${wanted}" not found` : 'no OCI runtime found on PATH (runc or crun)', {
    hint: 'install runc or crun, or pass --runtime PATH',
  });
}

function which(cmd: string, path: string): string | undefined {
  const paths = cmd.includes('/') ? [isAbsolute(cmd) ? cmd : join(process.cwd(), cmd)] : path.split(delimiter).filter(Boolean).map((d) => join(d, cmd));
  for (const p of paths) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}
