import { posix } from 'node:path';
import { stepKey } from '@strata/layer-cache';
import type { TarWriteEntry } from '@strata/tar';
import { nowSeconds, type BuildCtx, type StageState } from './build-state';
import { addLayer, addMeta, cachedLayer, passwdFiles, tarOf, viewOf } from './stage-layers';
import { resolveChown, type Owner } from './chown';
import { lowerFs } from './lower-fs';

export async function workdir(ctx: BuildCtx, st: StageState, path: string): Promise<{ cached: boolean }> {
  const cur = st.config.WorkingDir || '/';
  const abs = posix.normalize(path.startsWith('/') ? path : posix.join(cur, path));
  st.config.WorkingDir = abs.length > 1 ? abs.replace(/\/+$/, '') : abs;
  const createdBy = `WORKDIR ${path}`;
  const key = stepKey(st.chainId, { op: 'workdir', path: st.config.WorkingDir, user: st.config.User ?? '', epoch: ctx.epoch });
  // The directories are created only when missing; the check itself is cached with the key.
  if (!ctx.opts.noCache) {
    const hit = await ctx.cache.get(key);
    if (hit) {
      if (hit.layer) addLayer(ctx, st, hit, createdBy);
      else addMeta(st, createdBy);
      return { cached: true };
    }
  }
  const view = await viewOf(ctx, st);
  const fs = lowerFs(view);
  const rel = st.config.WorkingDir.replace(/^\/+/, '');
  const entries: TarWriteEntry[] = [];
  let owner: Owner = { uid: 0, gid: 0 };
  if (st.config.User) owner = await resolveChown(st.config.User, () => passwdFiles(view)).catch(() => ({ uid: 0, gid: 0 }));
  const now = nowSeconds();
  const parts = rel === '' ? [] : rel.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const p = parts.slice(0, i).join('/');
    const r = fs.resolve(p);
    if (r.type === 'dir') continue;
    entries.push({ path: r.realPath, type: 'dir', mode: 0o755, ...owner, size: 0, mtime: now });
  }
  if (entries.length === 0) {
    await ctx.cache.put({ key, created: new Date().toISOString(), description: createdBy });
    addMeta(st, createdBy);
    return { cached: false };
  }
  const { rec } = await cachedLayer(ctx, key, createdBy, async (buffers, stats) => tarOf(ctx, entries, buffers, stats));
  addLayer(ctx, st, rec, createdBy);
  return { cached: false };
}
