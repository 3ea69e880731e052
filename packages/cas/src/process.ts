import { readFileSync } from 'node:fs';

// Imports nothing else: `@strata/cas/process` is read by code that runs at every start.

/**
 * Start time of a process (clock ticks since boot, /proc/<pid>/stat field 22), so a recorded pid
 * can be told apart from a later process that got the same pid. Undefined where /proc is absent.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
