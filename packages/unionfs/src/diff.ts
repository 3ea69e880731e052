import { createHash } from 'node:crypto';
import { comparePaths } from '@strata/tar';
import type { Change } from '@strata/layer';
import { dataKey } from './flatten';
import { openData } from './union-view';
import type { UnionView, ViewEntry } from './types';

export type What = NonNullable<Change['what']>[number];

export interface DiffOptions {
  /** Differences to ignore (e.g. `mtime`, which changes on every copy). */
  ignore?: What[];
}

/** A Change with the two entries it compares (`a` absent for add, `b` absent for delete). */
export interface DetailedChange extends Change {
  a?: ViewEntry;
  b?: ViewEntry;
}

function sameData(va: UnionView, ea: ViewEntry, vb: UnionView, eb: ViewEntry): boolean | undefined {
  if (!ea.data || !eb.data) return undefined;
  if ('layer' in ea.data && 'layer' in eb.data) {
    const la = va.layers[ea.data.layer];
    const lb = vb.layers[eb.data.layer];
    if (la.diffId && la.diffId === lb.diffId) return ea.data.offset === eb.data.offset ? true : undefined;
  }
  if (va === vb && dataKey(ea.data) === dataKey(eb.data)) return true;
  return undefined;
}

async function contentDigest(view: UnionView, e: ViewEntry): Promise<string> {
  const h = createHash('sha256');
  if (e.data) for await (const c of openData(view.layers, e.data, e.size)) h.update(c);
  return h.digest('hex');
}

/** What differs between two entries at the same path ([] when they are the same). */
export async function compareEntries(va: UnionView, ea: ViewEntry, vb: UnionView, eb: ViewEntry, ignore: ReadonlySet<What> = new Set()): Promise<What[]> {
  const what: What[] = [];
  const add = (w: What) => {
    if (!ignore.has(w)) what.push(w);
  };
  if (ea.type !== eb.type) return ignore.has('type') ? [] : ['type'];
  if (ea.mode !== eb.mode) add('mode');
  if (ea.uid !== eb.uid || ea.gid !== eb.gid) add('owner');
  if (ea.type === 'symlink' && ea.linkname !== eb.linkname) add('linkname');
  if ((ea.type === 'char' || ea.type === 'block') && (ea.devmajor !== eb.devmajor || ea.devminor !== eb.devminor)) add('content');
  if (ea.type === 'file') {
    if (ea.size !== eb.size) {
      add('size');
      add('content');
    } else if (!ignore.has('content') && sameData(va, ea, vb, eb) !== true) {
      if ((await contentDigest(va, ea)) !== (await contentDigest(vb, eb))) add('content');
    }
  }
  if (Math.floor(ea.mtime) !== Math.floor(eb.mtime)) add('mtime');
  return what;
}

/**
 * The changes that turn view `a` into view `b`, in path order, like `docker diff`: every added
 * path, every changed path with what changed, and deleted paths (not the children of a deleted directory).
 */
export async function* diffViews(a: UnionView, b: UnionView, opts: DiffOptions = {}): AsyncGenerator<DetailedChange> {
  const ignore = new Set(opts.ignore ?? []);
  const ia = a.entries()[Symbol.iterator]();
  const ib = b.entries()[Symbol.iterator]();
  let na = ia.next();
  let nb = ib.next();
  let deleted: string | undefined;
  const abs = (p: string) => `/${p}`;
  while (!na.done || !nb.done) {
    const c = na.done ? 1 : nb.done ? -1 : comparePaths(na.value.path, nb.value.path);
    if (c < 0) {
      const e = na.value as ViewEntry;
      if (deleted === undefined || !e.path.startsWith(`${deleted}/`)) {
        deleted = e.path;
        yield { path: abs(e.path), kind: 'delete', a: e };
      }
      na = ia.next();
    } else if (c > 0) {
      const e = nb.value as ViewEntry;
      yield { path: abs(e.path), kind: 'add', b: e };
      nb = ib.next();
    } else {
      const ea = na.value as ViewEntry;
      const eb = nb.value as ViewEntry;
      if (deleted !== undefined && ea.path.startsWith(`${deleted}/`)) {
        // Below a directory that became something else: everything in b here is new.
        yield { path: abs(eb.path), kind: 'add', b: eb };
        na = ia.next();
        nb = ib.next();
        continue;
      }
      const what = await compareEntries(a, ea, b, eb, ignore);
      if (what.length) yield { path: abs(ea.path), kind: 'modify', what, a: ea, b: eb };
      // A directory replaced by a non-directory: its old children go with it, unlisted.
      if (ea.type === 'dir' && eb.type !== 'dir') deleted = ea.path;
      na = ia.next();
      nb = ib.next();
    }
  }
}
