import { closeSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { StrataError } from '@strata/errors';
import { baseOf, cleanPath, comparePaths, fdPath, openDirAt, openParentBeneath, openRoot, parentOf as parentRel, whiteoutPath, writeTar, type TarWriteEntry, type WriteTarOptions } from '@strata/tar';
import { layerFromUncompressed } from './from-opener';
import type { Change, Layer } from './types';
import { entryFromStat, hardlinks, walkTree } from './walk-tree';

export interface ChangesLayerOptions extends WriteTarOptions {
  mediaType?: string;
  /** Whiteout timestamp (seconds); default 0, so the same changes give the same layer. */
  whiteoutMtime?: number;
}

/**
 * Tar entries that turn a tree into `root` given `changes`: added and modified paths are taken
 * from `root` (an added directory brings its whole subtree), deleted paths become whiteouts.
 * Files with several links among the changed paths are written once and linked.
 */
export function* changeEntries(root: string, changes: Iterable<Change>, opts: ChangesLayerOptions = {}): Generator<TarWriteEntry> {
  const items = [...changes]
    .map((c) => {
      const rel = cleanPath(c.path);
      // Sorted by the path each change has in the tar (a whiteout sorts as `.wh.<name>`).
      return { ...c, rel, key: c.kind === 'delete' && rel !== '.' ? whiteoutPath(rel) : rel };
    })
    .sort((a, b) => comparePaths(a.key, b.key));
  const linked = hardlinks();
  const emitted = new Set<string>();
  let coveredBy: string | undefined; // an added directory whose subtree was already emitted
  let rootFd: number | undefined; // opened at the first change that needs it
  /** The directory holding the last change looked at (changes of one directory come together). */
  let held: { rel: string; fd: number | undefined } | undefined;
  const release = () => {
    if (held?.fd !== undefined && held.fd !== rootFd) closeSync(held.fd);
    held = undefined;
  };
  const parentOf = (rel: string): number | undefined => {
    const dir = parentRel(rel);
    if (held?.rel !== dir) {
      release();
      rootFd ??= openRoot(root);
      held = { rel: dir, fd: openParentBeneath(rootFd, rel) };
    }
    return held!.fd;
  };
  try {
    for (const c of items) {
      if (c.rel === '.') continue;
      if (coveredBy !== undefined && c.rel.startsWith(`${coveredBy}/`)) continue;
      coveredBy = undefined;
      if (c.kind === 'delete') {
        yield { path: whiteoutPath(c.rel), type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: opts.whiteoutMtime ?? 0, data: '' };
        continue;
      }
      const abs = join(root, c.rel);
      // reached through descriptors from the root: a directory swapped for a symlink is not followed
      const pfd = parentOf(c.rel);
      const at = pfd === undefined ? undefined : fdPath(pfd, baseOf(c.rel));
      const st = at === undefined ? undefined : lstatSync(at, { throwIfNoEntry: false });
      if (!st) throw new StrataError('NOT_FOUND', `change ${c.path}: not found in ${root}`);
      const e = entryFromStat(c.rel, abs, st, at);
      if (!e || emitted.has(c.rel)) continue;
      emitted.add(c.rel);
      yield linked(e, st);
      if (e.type === 'dir' && c.kind === 'add') {
        const dfd = openDirAt(pfd!, baseOf(c.rel));
        if (dfd === undefined) throw new StrataError('IO_ERROR', `change ${c.path}: stopped being a directory while it was read`);
        try {
          // one hardlink tracker for the subtree and every other change: a file linked from inside
          // and outside the directory is written once
          yield* walkTree(abs, { base: c.rel, links: linked, rootFd: dfd });
        } finally {
          closeSync(dfd);
        }
        coveredBy = c.rel;
      }
    }
  } finally {
    release();
    if (rootFd !== undefined) closeSync(rootFd);
  }
}

/** A layer from a list of Changes against the tree in `root` (deletions become whiteouts). */
export function layerFromChanges(root: string, changes: Change[], opts: ChangesLayerOptions = {}): Layer {
  return layerFromUncompressed({ open: async () => writeTar(changeEntries(root, changes, opts), opts), mediaType: opts.mediaType });
}
