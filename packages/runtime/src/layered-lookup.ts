import { lstatSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';

/**
 * Look a path up in an overlay stack without mounting it: `dirs` top → bottom, whiteouts are
 * 0/0 character devices; symlinks are followed inside the stack (never out of it). Opaque
 * directories (an xattr Node cannot read) are not honoured: good enough to read /etc/passwd.
 */
export function lookupInLayers(dirs: string[], path: string): { hostPath: string; stat: Stats } | undefined {
  let parts = posix.normalize(`/${path}`).split('/').filter(Boolean);
  let layers = dirs;
  let prefix = '';
  let hops = 0;
  for (let i = 0; i < parts.length; i++) {
    const rel = prefix ? `${prefix}/${parts[i]}` : parts[i];
    let top: { hostPath: string; stat: Stats } | undefined;
    const below: string[] = [];
    for (const d of layers) {
      let st: Stats;
      try {
        st = lstatSync(join(d, rel));
      } catch {
        continue;
      }
      if (st.isCharacterDevice() && st.rdev === 0) break;
      if (!top) top = { hostPath: join(d, rel), stat: st };
      if (!st.isDirectory() || !top.stat.isDirectory()) break;
      below.push(d);
    }
    if (!top) return undefined;
    if (top.stat.isSymbolicLink()) {
      if (++hops > 40) return undefined;
      const target = readlinkSync(top.hostPath);
      const base = target.startsWith('/') ? '' : prefix;
      parts = [...posix.normalize(`/${base}/${target}`).split('/').filter(Boolean), ...parts.slice(i + 1)];
      prefix = '';
      layers = dirs;
      i = -1;
      continue;
    }
    if (i === parts.length - 1) return top;
    if (!top.stat.isDirectory()) return undefined;
    layers = below;
    prefix = rel;
  }
  return { hostPath: dirs[0], stat: lstatSync(dirs[0]) };
}

export function readFileInLayers(dirs: string[], path: string): Buffer | undefined {
  const hit = lookupInLayers(dirs, path);
  if (!hit || !hit.stat.isFile()) return undefined;
  return readFileSync(hit.hostPath);
}
