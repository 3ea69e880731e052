import { posix } from 'node:path';
import type { UnionView } from '@strata/unionfs';
import type { LowerFs } from './copy-plan';

/** Path resolution inside a merged filesystem: symlinks in any component are followed, never above `/`. */
export function lowerFs(view: UnionView | undefined): LowerFs {
  return {
    resolve(path) {
      if (!view) return { realPath: path };
      let parts = path === '' ? [] : path.split('/');
      let done: string[] = [];
      let hops = 0;
      while (parts.length > 0) {
        const [head, ...rest] = parts;
        const cur = [...done, head].join('/');
        const e = view.stat(cur);
        if (e && e.type === 'symlink' && e.linkname !== undefined && hops++ < 40) {
          const target = e.linkname.startsWith('/') ? e.linkname : posix.join('/', ...done, e.linkname);
          const norm = posix.normalize(target).replace(/^\/+/, '').replace(/\/+$/, '');
          parts = [...(norm === '' || norm === '.' ? [] : norm.split('/')), ...rest];
          done = [];
          continue;
        }
        done.push(head);
        parts = rest;
        if (!e) {
          done.push(...parts);
          return { realPath: done.join('/') };
        }
      }
      const real = done.join('/');
      const e = view.stat(real === '' ? '.' : real);
      return { realPath: real, type: e?.type };
    },
  };
}
