import { openSync } from 'node:fs';
import { writeTar, type TarWriteEntry, type WriteTarOptions } from '@strata/tar';
import type { DataRef, UnionView, ViewEntry } from './types';
import { closeFds, openData, type FdCache } from './union-view';

export interface FlattenOptions extends WriteTarOptions {
  /** Include the root directory as `./` (default false, like `docker export`). */
  includeRoot?: boolean;
}

/** Identity of a file's content: the same key means the same bytes (hardlinks). */
export function dataKey(ref: DataRef): string | number {
  return 'file' in ref ? ref.file : ref.layer * 2 ** 40 + ref.offset;
}

/** The tar entries of a view; paths sharing content (hardlinks) after the first become links to it. */
export function* flattenEntries(view: UnionView, opts: FlattenOptions = {}, fds?: FdCache): Generator<TarWriteEntry> {
  const first = new Map<string | number, string>();
  if (opts.includeRoot) {
    const r = view.stat('.');
    if (r) yield toWrite(r);
  }
  for (const e of view.entries()) {
    if (e.type === 'file' && e.data) {
      const key = dataKey(e.data);
      const seen = first.get(key);
      if (seen !== undefined) {
        const w = toWrite(e);
        w.type = 'hardlink';
        w.linkname = seen;
        w.size = 0;
        yield w;
        continue;
      }
      first.set(key, e.path);
      const ref = e.data;
      const path = 'file' in ref ? ref.file : view.layers[ref.layer].path;
      if (path !== undefined && fds) {
        // Read straight from the layer tar at the content's offset, through one shared descriptor.
        let fd = fds.get(path);
        if (fd === undefined) fds.set(path, (fd = openSync(path, 'r')));
        const w = toWrite(e);
        w.sourcePath = path;
        w.sourceOffset = 'file' in ref ? 0 : ref.offset;
        w.sourceFd = fd;
        yield w;
      } else {
        yield { ...toWrite(e), open: () => openData(view.layers, ref, e.size, fds) as AsyncIterable<Uint8Array> };
      }
      continue;
    }
    yield toWrite(e);
  }
}

function toWrite(e: ViewEntry): TarWriteEntry {
  return {
    path: e.path,
    type: e.type,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    size: e.size,
    mtime: e.mtime,
    linkname: e.linkname,
    uname: e.uname,
    gname: e.gname,
    devmajor: e.devmajor,
    devminor: e.devminor,
    xattrs: e.xattrs,
    atime: e.atime,
  };
}

/** One tar of the merged tree (whiteouts applied), streamed: like `crane export` / `docker export`. */
export async function* flatten(view: UnionView, opts: FlattenOptions = {}): AsyncGenerator<Uint8Array> {
  const fds: FdCache = new Map();
  try {
    yield* writeTar(flattenEntries(view, opts, fds), opts);
  } finally {
    closeFds(fds);
  }
}
