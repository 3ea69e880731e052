import { readdirSync, readFileSync } from 'node:fs';

/** PIDs of the processes whose command line contains `s` (to check a container's processes are gone). */
export function processesMentioning(s: string): string[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(s);
    } catch {
      return false;
    }
  });
}
