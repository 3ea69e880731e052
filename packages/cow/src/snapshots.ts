import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { wrapError } from '@strata/errors';
import { chainIds, digestHex, type Digest } from '@strata/oci';
import type { Layer } from '@strata/layer';
import { applyLayer, type ImplicitDir } from '@strata/tar';
import { lowerView } from './lower-view';
import { opaqueDirs, readTreeXattrs } from './xattrs';

/**
 * One layer unpacked on its own, ready to be an overlay lower dir: `ROOT/snapshots/<chainID hex>/`
 * holds `fs/` (only this layer's files; whiteouts as 0/0 char devices, opaque directories marked
 * `trusted.overlay.opaque=y`) and `meta.json`. Keyed by chainID, so every image and container
 * whose stack starts with the same layers shares it.
 */
export interface Snapshot {
  chainId: Digest;
  diffId: Digest;
  /** The overlay lower dir. */
  dir: string;
  /** Directories this layer made opaque (relative, no leading slash). */
  opaque: string[];
}

interface Meta {
  chainId: Digest;
  diffId: Digest;
  opaque: string[];
  created: string;
}

let unpacks = 0;

/** How many layers this process has unpacked into snapshots (for benchmarks and tests). */
export function snapshotUnpackCount(): number {
  return unpacks;
}

export function snapshotsDir(root: string): string {
  return join(root, 'snapshots');
}

function readMeta(dir: string): Meta | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Meta;
  } catch {
    return undefined;
  }
}

/**
 * The snapshots of a layer stack (bottom → top), unpacking the missing ones. Each is unpacked
 * into a temp dir beside its final place and renamed into place, so a crash never leaves a
 * half-unpacked snapshot under its real name, and two processes racing both end with one copy.
 */
export async function ensureSnapshots(root: string, layers: readonly Layer[], checkpoint?: (point: string) => void | Promise<void>): Promise<Snapshot[]> {
  const diffIds = await Promise.all(layers.map((l) => l.diffId()));
  const chain = chainIds(diffIds);
  const base = snapshotsDir(root);
  mkdirSync(base, { recursive: true });
  const out: Snapshot[] = [];
  for (let i = 0; i < layers.length; i++) {
    const dir = join(base, digestHex(chain[i]));
    let meta = readMeta(dir);
    if (!meta) {
      const tmp = join(base, `.tmp-${digestHex(chain[i]).slice(0, 16)}-${process.pid}-${Date.now().toString(36)}`);
      mkdirSync(join(tmp, 'fs'), { recursive: true });
      try {
        const below = lowerView(out.map((o) => ({ dir: o.dir, opaque: new Set(o.opaque) })).reverse());
        const result = await applyLayer(join(tmp, 'fs'), await layers[i].uncompressed(), {
          whiteouts: 'overlay',
          what: `layer ${diffIds[i]}`,
          implicitDir: (rel) => implicitDirBelow(below, rel),
        });
        unpacks++;
        const opaque = result.whiteouts ? [...opaqueDirs(readTreeXattrs(join(tmp, 'fs')))].filter((p) => p !== '.') : [];
        meta = { chainId: chain[i], diffId: diffIds[i], opaque, created: new Date().toISOString() };
        writeFileSync(join(tmp, 'meta.json'), `${JSON.stringify(meta)}\n`);
        await checkpoint?.('snapshot-unpacked');
        try {
          renameSync(tmp, dir);
        } catch (err) {
          // Another process finished the same snapshot first: use theirs.
          if (!readMeta(dir)) throw err;
          rmSync(tmp, { recursive: true, force: true });
        }
      } catch (err) {
        rmSync(tmp, { recursive: true, force: true });
        wrapError(err, `unpacking layer ${diffIds[i]}`);
      }
    }
    out.push({ chainId: chain[i], diffId: diffIds[i], dir: join(dir, 'fs'), opaque: meta.opaque });
  }
  return out;
}

/** A directory of the layers below, as an implied parent of this layer copies it (undefined: none there). */
function implicitDirBelow(below: ReturnType<typeof lowerView>, rel: string): ImplicitDir | undefined {
  const e = below.lookup(rel);
  if (!e?.stat.isDirectory()) return undefined;
  const st = e.stat;
  return { mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid), mtime: Number(st.mtimeNs) / 1e9, atime: Number(st.atimeNs) / 1e9 };
}

/**
 * Make `dir` (a tree in overlay lower-dir form: whiteouts as 0/0 char devices, opaque directories
 * marked) the snapshot of `chainId`, by renaming it into place: a RUN step's upper dir is
 * already the unpacked form of its layer (containerd's overlay snapshotter commits it the same
 * way), so nothing is unpacked again. False, leaving `dir` where it is, when the snapshot exists.
 */
export function commitSnapshot(root: string, o: { chainId: Digest; diffId: Digest; dir: string; opaque: string[] }): boolean {
  const base = snapshotsDir(root);
  const dest = join(base, digestHex(o.chainId));
  if (readMeta(dest)) return false;
  mkdirSync(base, { recursive: true });
  const tmp = join(base, `.tmp-${digestHex(o.chainId).slice(0, 16)}-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(tmp);
  renameSync(o.dir, join(tmp, 'fs'));
  const meta: Meta = { chainId: o.chainId, diffId: o.diffId, opaque: o.opaque.filter((p) => p !== '.'), created: new Date().toISOString() };
  writeFileSync(join(tmp, 'meta.json'), `${JSON.stringify(meta)}\n`);
  try {
    renameSync(tmp, dest);
    return true;
  } catch (err) {
    // Another process committed or unpacked the same snapshot first: give the tree back.
    renameSync(join(tmp, 'fs'), o.dir);
    rmSync(tmp, { recursive: true, force: true });
    if (readMeta(dest)) return false;
    throw err;
  }
}

/** A snapshot's metadata, when it is complete. */
export function readSnapshotMeta(root: string, chainId: Digest): { chainId: Digest; diffId: Digest; opaque: string[] } | undefined {
  return readMeta(join(snapshotsDir(root), digestHex(chainId)));
}

/** Snapshots present in the store (complete ones only). */
export function listSnapshots(root: string): Snapshot[] {
  const base = snapshotsDir(root);
  if (!existsSync(base)) return [];
  const out: Snapshot[] = [];
  for (const name of readdirSync(base)) {
    if (name.startsWith('.')) continue;
    const meta = readMeta(join(base, name));
    if (meta) out.push({ chainId: meta.chainId, diffId: meta.diffId, dir: join(base, name, 'fs'), opaque: meta.opaque });
  }
  return out;
}

/** Remove one snapshot (rename away first, so a reader never sees it half-deleted). */
export function removeSnapshot(root: string, chainId: Digest): void {
  const dir = join(snapshotsDir(root), digestHex(chainId));
  if (!existsSync(dir)) return;
  const trash = join(snapshotsDir(root), `.rm-${digestHex(chainId).slice(0, 16)}-${process.pid}-${Date.now().toString(36)}`);
  renameSync(dir, trash);
  rmSync(trash, { recursive: true, force: true });
}
