import { writeTar, type TarWriteEntry, type WriteTarOptions } from '@strata/tar';
import type { DataRef, UnionView, ViewEntry } from './types';
import { closeFds, openData, type FdCache } from './union-view';

export interface FlattenOptions extends WriteTarOptions {
  /** Include the root directory as `./` (default false, like `docker export`). */
  includeRoot?: boolean;
}

export function dataKey(ref: DataRef): string {
  return 'file' in ref ? `f:${ref.file}` : `l:${ref.layer}:${ref.offset}`;
}

/** The tar entries of a view; paths sharing content (hardlinks) after the first become links to it. */
export function* flattenEntries(view: UnionView, opts: FlattenOptions = {}, fds?: FdCache): Generator<TarWriteEntry> {
  const first = new Map<string, string>();
  if (opts.includeRoot) {
    const r = view.stat('.');
    if (r) yield toWrite(r);
  }
  for (const e of view.entries()) {
    if (e.type === 'file' && e.data) {
      const key = dataKey(e.data);
      const seen = first.get(key);
      if (seen !== undefined) {
        yield { ...toWrite(e), type: 'hardlink', linkname: seen, size: 0 };
        continue;
      }
      first.set(key, e.path);
      const ref = e.data;
      yield { ...toWrite(e), open: () => openData(view.layers, ref, e.size, fds) as AsyncIterable<Uint8Array> };
      continue;
    }
    yield toWrite(e);
  }
}

function toWrite(e: ViewEntry): TarWriteEntry {
  const { layer: _l, data: _d, name: _n, ...rest } = e;
  return rest;
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
