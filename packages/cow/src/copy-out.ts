import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { StrataError } from '@strata/errors';
import { findTool } from '@strata/host-tools';

/**
 * `cp -a DIR/REL/. DEST/` for each item, out of the merged view of `dirs` (top → bottom). A
 * stack is mounted read-only as overlayfs in a private mount namespace that lives as long as the
 * copy (the host never sees the mount); a single directory (`merged`) is bind-mounted there. Both
 * mounts are `nosymfollow`: the kernel follows no symlink on them, neither in REL nor inside cp's
 * walk, so a directory swapped for a symlink meanwhile cannot lead the copy outside the view
 * (docs/PATH-SAFETY.md); cp copies symlinks as symlinks. Without privileges to mount (the copying
 * fallback as non-root) a merged directory is read in place, and only the callers' check that
 * `rel` names a real directory of the view stands.
 */
export function copyOutOfView(o: { scratch: string; dirs: string[]; merged: boolean; items: Array<{ rel: string; dest: string }> }): Promise<void> {
  const cp = findTool('cp');
  mkdirSync(o.scratch, { recursive: true });
  const work = mkdtempSync(join(o.scratch, `copy-out-${process.pid}-`));
  let cmd: string;
  let args: string[];
  const copies = o.items.map((_, i) => `"$cp" -a "m/$R${i}/." "$D${i}/"`).join(' && ');
  const env: Record<string, string> = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', cp };
  o.items.forEach((it, i) => {
    env[`R${i}`] = it.rel;
    env[`D${i}`] = it.dest;
    mkdirSync(it.dest, { recursive: true });
  });
  if (o.merged && process.getuid?.() !== 0) {
    symlinkSync(o.dirs[0], join(work, 'm'));
    cmd = 'sh';
    args = ['-c', copies];
  } else if (o.merged) {
    mkdirSync(join(work, 'm'));
    env.SRC = o.dirs[0];
    env.mount = findTool('mount');
    cmd = findTool('unshare');
    args = ['--mount', '--propagation', 'private', '--', 'sh', '-c', `set -e; "$mount" --bind "$SRC" m; "$mount" -o remount,bind,ro,nosymfollow m; ${copies}`];
  } else {
    mkdirSync(join(work, 'l'));
    mkdirSync(join(work, 'm'));
    o.dirs.forEach((d, i) => symlinkSync(d, join(work, 'l', String(i))));
    // A single lower dir is not a valid overlay: add an empty one below it.
    const dirs = o.dirs.length === 1 ? [...o.dirs, join(work, 'empty')] : o.dirs;
    if (o.dirs.length === 1) {
      mkdirSync(join(work, 'empty'));
      symlinkSync(join(work, 'empty'), join(work, 'l', '1'));
    }
    env.OPTS = `ro,nosymfollow,lowerdir=${dirs.map((_, i) => `l/${i}`).join(':')}`;
    env.mount = findTool('mount');
    cmd = findTool('unshare');
    args = ['--mount', '--propagation', 'private', '--', 'sh', '-c', `set -e; "$mount" -t overlay strata-view -o "$OPTS" m; ${copies}`];
  }
  return new Promise<void>((resolve, reject) => {
    execFile(cmd, args, { cwd: work, env }, (err, _out, stderr) => {
      rmSync(work, { recursive: true, force: true });
      if (err) reject(new StrataError('IO_ERROR', `copying ${o.items.map((i) => `/${i.rel}`).join(', ')} out of the image: ${String(stderr).trim().split('\n').pop() || err.message}`, { cause: err }));
      else resolve();
    });
  });
}
