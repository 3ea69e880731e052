import { closeSync, fstatSync, mkdirSync, openSync, unlinkSync } from 'node:fs';

let probes = 0;

/**
 * Now, on the clock that stamps files: the mtime of a file created in `dir` (made when missing).
 * Racy-window checks compare file timestamps with this, not with the process clock, which need not
 * agree with it (a faked or skewed process clock, a file server's clock): a process clock ahead
 * would trust entries changed within the window, one behind would trust none. Falls back to the
 * process clock when `dir` cannot be written.
 */
export function fileSystemNow(dir: string): number {
  const probe = `${dir}/.now-${process.pid}-${probes++}`;
  try {
    mkdirSync(dir, { recursive: true });
    const fd = openSync(probe, 'wx');
    try {
      return fstatSync(fd).mtimeMs;
    } finally {
      closeSync(fd);
      unlinkSync(probe);
    }
  } catch {
    return Date.now();
  }
}
