import { processStartTime } from '@strata/cas/process';

/** A live process, identified by pid and kernel start time (so a reused pid is not mistaken for it). */
export interface Owner {
  pid: number;
  start: string;
}

export function ownerOf(pid: number): Owner {
  return { pid, start: processStartTime(pid) ?? '' };
}

export function currentOwner(): Owner {
  return ownerOf(process.pid);
}

export function ownerAlive(o: Owner | undefined): boolean {
  if (!o) return false;
  const s = processStartTime(o.pid);
  return s !== undefined && (o.start === '' || s === o.start);
}
