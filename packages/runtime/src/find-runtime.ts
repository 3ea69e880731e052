import { StrataError } from '@strata/errors';
import { findTool, hostEnv, which } from '@strata/host-tools';

const KNOWN = ['runc', 'crun'] as const;

/**
 * The OCI runtime binary: `name` (a command on PATH or a path), else STRATA_RUNTIME of the host
 * environment (setHostEnv),
 * else the first of runc, crun found on PATH.
 */
export function findRuntime(name?: string, env: Readonly<Record<string, string | undefined>> = hostEnv()): string {
  const wanted = name || env.STRATA_RUNTIME;
  if (wanted) {
    const known = KNOWN.find((k) => k === wanted);
    if (known) {
      try {
        return findTool(known, env);
      } catch {
        // reported below, as RUNTIME_NOT_FOUND
      }
    } else {
      const found = which(wanted, env.PATH ?? '', process.cwd());
      if (found) return found;
    }
  } else {
    for (const c of KNOWN) {
      try {
        return findTool(c, env);
      } catch {
        // try the next
      }
    }
  }
  throw new StrataError('RUNTIME_NOT_FOUND', wanted ? `OCI runtime "${wanted}" not found` : 'no OCI runtime found on PATH (runc or crun)', {
    hint: 'install runc or crun, or pass --runtime PATH',
  });
}
