import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ownerAlive, type Owner } from '@strata/cow/owner';
import { DEFAULT_RUN_DIR } from '@strata/network/run-dir';

/**
 * `RUN_DIR/live/<id>.json`: a container that runs now, its store and its owner process. Written
 * before anything is set up for the start, removed when everything is torn down: an entry whose
 * owner is gone is what a crash left, and any strata command (whatever its store) finds it with
 * one readdir (`crashCheck`) and recovers it.
 */
export interface LiveEntry {
  id: string;
  root: string;
  owner: Owner;
}

function liveDir(runDir: string): string {
  return join(runDir, 'live');
}

export function registerLive(e: LiveEntry, runDir = DEFAULT_RUN_DIR): void {
  mkdirSync(liveDir(runDir), { recursive: true });
  const file = join(liveDir(runDir), `${e.id}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ ...e, root: resolve(e.root) }));
  renameSync(tmp, file);
}

export function unregisterLive(id: string, runDir = DEFAULT_RUN_DIR): void {
  rmSync(join(liveDir(runDir), `${id}.json`), { force: true });
}

export function liveEntries(runDir = DEFAULT_RUN_DIR): LiveEntry[] {
  let names: string[];
  try {
    names = readdirSync(liveDir(runDir));
  } catch {
    return [];
  }
  const out: LiveEntry[] = [];
  for (const n of names) {
    if (!n.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(readFileSync(join(liveDir(runDir), n), 'utf8')) as LiveEntry);
    } catch {
      // being written right now
    }
  }
  return out;
}

/** Live entries whose owner process is gone: containers a crash left running or half set up. */
export function crashedEntries(runDir = DEFAULT_RUN_DIR): LiveEntry[] {
  return liveEntries(runDir).filter((e) => !ownerAlive(e.owner));
}
