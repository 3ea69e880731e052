import { lstatSync } from 'node:fs';
import { entryFromStat, walkTree } from '@strata/layer';
import { parentOf, baseOf } from '@strata/tar';
import { newTree, viewOfTree, type Tree } from './union-view';
import type { UnionView, ViewEntry } from './types';

/** A view of a directory on disk, so directories and layer stacks can be diffed alike. */
export function directoryView(dir: string): UnionView {
  const rootSt = lstatSync(dir);
  const root = entryFromStat('.', dir, rootSt)!;
  const t: Tree = newTree({ ...root, layer: -1, sourcePath: undefined } as ViewEntry);
  for (const e of walkTree(dir)) {
    let ve: ViewEntry;
    if (e.type === 'hardlink') {
      const target = t.entries.get(e.linkname!)!;
      ve = { ...target, path: e.path };
    } else {
      const { sourcePath, data: _d, open: _o, ...meta } = e;
      ve = { ...meta, layer: -1 } as ViewEntry;
      if (sourcePath) ve.data = { file: sourcePath };
    }
    t.entries.set(e.path, ve);
    t.children.get(parentOf(e.path))!.add(baseOf(e.path));
    if (ve.type === 'dir') t.children.set(e.path, new Set());
  }
  return viewOfTree(t, []);
}
