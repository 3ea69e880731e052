// How layer/file entries are shown: `ls -l`-like type and mode strings, records for JSON Lines.
import type { TarEntry } from '@strata/tar';

const TYPE_CHAR: Record<TarEntry['type'], string> = { file: '-', dir: 'd', symlink: 'l', hardlink: 'h', char: 'c', block: 'b', fifo: 'p' };

/** `drwxr-sr-x`, `-rwsr-xr-x`, `drwxrwxrwt` as `ls -l` shows them. */
export function modeString(type: TarEntry['type'], mode: number): string {
  const rwx = (bits: number, special: boolean, ch: string) =>
    `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${special ? (bits & 1 ? ch : ch.toUpperCase()) : bits & 1 ? 'x' : '-'}`;
  return (
    TYPE_CHAR[type] +
    rwx((mode >> 6) & 7, (mode & 0o4000) !== 0, 's') +
    rwx((mode >> 3) & 7, (mode & 0o2000) !== 0, 's') +
    rwx(mode & 7, (mode & 0o1000) !== 0, 't')
  );
}

export function entryRecord(e: TarEntry): Record<string, unknown> {
  const r: Record<string, unknown> = {
    path: e.path === '.' ? '/' : `/${e.path}`,
    type: e.type,
    mode: `0${(e.mode & 0o7777).toString(8).padStart(3, '0')}`,
    uid: e.uid,
    gid: e.gid,
    size: e.size,
    mtime: new Date(e.mtime * 1000).toISOString(),
  };
  if (e.linkname !== undefined) r.linkname = e.type === 'hardlink' ? `/${e.linkname}` : e.linkname;
  if (e.type === 'char' || e.type === 'block') r.device = `${e.devmajor ?? 0}:${e.devminor ?? 0}`;
  return r;
}

/** Table columns for file listings. */
export const FILE_COLUMNS = [
  { header: 'MODE', field: (r: Record<string, unknown>) => (r.change === 'D' ? 'D' : modeString(r.type as TarEntry['type'], Number.parseInt(String(r.mode), 8))) },
  { header: 'UID:GID', field: (r: Record<string, unknown>) => (r.change === 'D' ? '' : `${r.uid}:${r.gid}`) },
  { header: 'SIZE', field: (r: Record<string, unknown>) => (r.change === 'D' ? '' : r.size) },
  {
    header: 'PATH',
    field: (r: Record<string, unknown>) =>
      `${r.path}${r.type === 'symlink' ? ` -> ${r.linkname}` : r.type === 'hardlink' ? ` link to ${r.linkname}` : r.opaque ? ' (opaque: lower content hidden)' : ''}`,
  },
];
