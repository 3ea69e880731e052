import { spawnSync } from 'node:child_process';
import { StrataError } from '@strata/errors';

/**
 * Create a device node or a FIFO. Node has no mknod(2), so this runs coreutils' `mknod` /
 * `mkfifo`: the one place strata spawns them. Overlay whiteouts are 0:0 character devices.
 */
export function makeNode(path: string, type: 'char' | 'block' | 'fifo', major = 0, minor = 0): void {
  const [cmd, args] = type === 'fifo' ? ['mkfifo', [path]] : ['mknod', [path, type === 'char' ? 'c' : 'b', String(major), String(minor)]];
  const r = spawnSync(cmd, args as string[], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new StrataError('IO_ERROR', missing ? `cannot create ${path}: the \`${cmd}\` program is not installed` : `cannot create ${path}: ${r.error.message}`, missing ? { hint: 'install coreutils' } : {});
  }
  if (r.status !== 0) throw new StrataError('IO_ERROR', `cannot create ${type} ${path}: ${r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`}`);
}
