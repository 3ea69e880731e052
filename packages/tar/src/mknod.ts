import { spawnSync } from 'node:child_process';
import { StrataError } from '@strata/errors';

/**
 * Create a device node or a FIFO named `name` in the directory `dirFd` (a descriptor). Node has
 * no mknod(2), so this runs coreutils' `mknod` / `mkfifo`: the one place strata spawns them. The
 * child gets the directory as its descriptor 3 and creates `/proc/self/fd/3/<name>`: the very
 * directory strata checked, whatever a concurrent rename did to its path. Overlay whiteouts are
 * 0:0 character devices.
 */
export function makeNode(dirFd: number, name: string, type: 'char' | 'block' | 'fifo', major = 0, minor = 0): void {
  const path = `/proc/self/fd/3/${name}`;
  const [cmd, args] = type === 'fifo' ? ['mkfifo', [path]] : ['mknod', [path, type === 'char' ? 'c' : 'b', String(major), String(minor)]];
  const r = spawnSync(cmd, args as string[], { stdio: ['ignore', 'ignore', 'pipe', dirFd], encoding: 'utf8' });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new StrataError('IO_ERROR', missing ? `cannot create ${name}: the \`${cmd}\` program is not installed` : `cannot create ${name}: ${r.error.message}`, missing ? { hint: 'install coreutils' } : {});
  }
  if (r.status !== 0) throw new StrataError('IO_ERROR', `cannot create ${type} ${name}: ${r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`}`);
}
