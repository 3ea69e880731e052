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
  let names: string[] = [];
  try {
    names = readdirSync(liveDir(runDir));
  } catch {
    return;
  }
  for (const n of names) if (n === `${id}.json` || n.startsWith(`${id}.recovering.`)) rmSync(join(liveDir(runDir), n), { force: true });
}

/** A live entry and its file: `<id>.json`, or `<id>.recovering.<pid>` while a recovery has claimed it. */
interface EntryFile {
  entry: LiveEntry;
  file: string;
  /** The process recovering it. */
  recoverer?: number;
}

function entryFiles(runDir: string): EntryFile[] {
  let names: string[];
  try {
    names = readdirSync(liveDir(runDir));
  } catch {
    return [];
  }
  const out: EntryFile[] = [];
  for (const n of names) {
    const m = /^[0-9a-f]{64}(?:\.json|\.recovering\.(\d+))$/.exec(n);
    if (!m) continue;
    try {
      out.push({ entry: JSON.parse(readFileSync(join(liveDir(runDir), n), 'utf8')) as LiveEntry, file: join(liveDir(runDir), n), recoverer: m[1] ? Number(m[1]) : undefined });
    } catch {
      // being written right now
    }
  }
  return out;
}

export function liveEntries(runDir = DEFAULT_RUN_DIR): LiveEntry[] {
  return entryFiles(runDir).map((e) => e.entry);
}

/**
 * Live entries whose owner process is gone (containers a crash left running or half set up),
 * unless a live process is recovering them already.
 */
export function crashedEntries(runDir = DEFAULT_RUN_DIR): LiveEntry[] {
  return entryFiles(runDir)
    .filter((e) => !ownerAlive(e.entry.owner) && (e.recoverer === undefined || !ownerAlive({ pid: e.recoverer, start: '' })))
    .map((e) => e.entry);
}

/**
 * Wait (at most `timeoutMs`) until no process is recovering `id` any more: a command that finds
 * another one cleaning up a crashed container reports the state that cleanup ends in.
 */
export async function waitRecovered(id: string, runDir = DEFAULT_RUN_DIR, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (let delay = 10; Date.now() < until; delay = Math.min(delay * 2, 200)) {
    const busy = entryFiles(runDir).some((e) => e.entry.id === id && e.recoverer !== undefined && ownerAlive({ pid: e.recoverer, start: '' }));
    if (!busy) return;
    await new Promise((r) => setTimeout(r, delay));
  }
}

/**
 * Wait (at most `timeoutMs`) until no other live process holds `id`'s live entry: the process
 * that ran it, or the cleanup process it handed the network's teardown to. `rm` and `prune` wait
 * so that, when they return, the container's network is gone, as with Docker.
 */
export async function waitReleased(id: string, runDir = DEFAULT_RUN_DIR, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (let delay = 10; Date.now() < until; delay = Math.min(delay * 2, 200)) {
    const held = entryFiles(runDir).some((e) => e.entry.id === id && e.entry.owner.pid !== process.pid && ownerAlive(e.entry.owner));
    if (!held) return;
    await new Promise((r) => setTimeout(r, delay));
  }
}

/**
 * Claim a crashed entry for this process's recovery (a rename: of several strata commands that
 * find it at once, one wins): `claimed`, `busy` (its owner lives), `recovering` (another process has it), or
 * `none` (no entry).
 */
export function claimCrashed(id: string, runDir = DEFAULT_RUN_DIR): 'claimed' | 'busy' | 'recovering' | 'none' {
  const mine = join(liveDir(runDir), `${id}.recovering.${process.pid}`);
  const files = entryFiles(runDir).filter((e) => e.entry.id === id);
  for (const e of files) {
    if (ownerAlive(e.entry.owner)) return 'busy';
    if (e.recoverer !== undefined && ownerAlive({ pid: e.recoverer, start: '' })) return 'recovering';
    try {
      renameSync(e.file, mine);
      return 'claimed';
    } catch {
      return 'busy';
    }
  }
  return 'none';
}
