import { readFileSync } from 'node:fs';

/** A live process, identified by pid and kernel start time (so a reused pid is not mistaken for it). */
export interface Owner {
  pid: number;
  start: string;
}

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime), counted after the parenthesised command name.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function ownerOf(pid: number): Owner {
  return { pid, start: startTime(pid) ?? '' };
}

export function currentOwner(): Owner {
  return ownerOf(process.pid);
}

export function ownerAlive(o: Owner | undefined): boolean {
  if (!o) return false;
  const s = startTime(o.pid);
  return s !== undefined && (o.start === '' || s === o.start);
}
