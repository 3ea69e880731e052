import { appendFileSync, promises as fsp, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { isDigest, type Digest } from '@strata/oci';
import { pidAlive } from './process';

export { pidAlive, processStartTime } from './process';

/**
 * Why leases: a process writes blobs first and references them from index.json later (under
 * the lock). In between, a GC in another process would see them as unreachable. Every put
 * records its digest in this process's lease file `ROOT/tmp/lease-<pid>-<rand>` *before* the
 * blob appears; GC keeps leased blobs of live processes. The file goes away when the process
 * exits (a dead pid's lease is ignored and removed by GC).
 */
export interface Lease {
  add(digest: Digest): void;
  /** Drop protection for digests that are now reachable from index.json. */
  release(digests: Iterable<Digest>): void;
}

export const LEASE_PREFIX = 'lease-';

const leaseFiles = new Set<string>();
let exitHook = false;

export function createLease(tmpDir: string): Lease {
  let file: string | undefined;
  const held = new Set<Digest>();
  const ensure = () => {
    if (file) return file;
    file = join(tmpDir, `${LEASE_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
    leaseFiles.add(file);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const f of leaseFiles) rmSync(f, { force: true });
      });
    }
    return file;
  };
  return {
    add(digest) {
      if (held.has(digest)) return;
      held.add(digest);
      // Synchronous so the entry is on disk before the blob can be seen by a GC.
      appendFileSync(ensure(), `${digest}\n`);
    },
    release(digests) {
      let changed = false;
      for (const d of digests) changed = held.delete(d) || changed;
      if (changed && file) writeFileSync(file, [...held].map((d) => `${d}\n`).join(''));
    },
  };
}

/** pid of a temp/lease file name `<kind>-<pid>-<rand>`, when it has one. */
export function pidOfTempName(name: string): number | undefined {
  const m = /-(\d+)-[0-9a-f]+$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Digests leased by live processes (this one included). */
export async function leasedDigests(tmpDir: string): Promise<Set<Digest>> {
  const out = new Set<Digest>();
  let names: string[];
  try {
    names = await fsp.readdir(tmpDir);
  } catch {
    return out;
  }
  for (const n of names) {
    if (!n.startsWith(LEASE_PREFIX)) continue;
    const pid = pidOfTempName(n);
    if (pid === undefined || !pidAlive(pid)) continue;
    let text = '';
    try {
      text = await fsp.readFile(join(tmpDir, n), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) if (isDigest(line)) out.add(line);
  }
  return out;
}
