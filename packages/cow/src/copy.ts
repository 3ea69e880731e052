import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { StrataError } from '@strata/errors';
import { findTool, hostEnv } from '@strata/host-tools';
import { joinRel } from '@strata/tar';
import type { LowerDir } from './lower-view';

let probed: boolean | undefined;

/**
 * Whether this process can mount overlayfs (in a private mount namespace, as the runtime
 * does). `STRATA_COW=copy` / `overlay` in the host environment (setHostEnv) forces the answer.
 * Probed once per process.
 */
export function overlaySupported(env: Readonly<Record<string, string | undefined>> = hostEnv()): boolean {
  if (env.STRATA_COW === 'copy') return false;
  if (env.STRATA_COW === 'overlay') return true;
  if (probed !== undefined) return probed;
  const d = mkdtempSync(join(tmpdir(), 'strata-ovl-probe-'));
  try {
    for (const s of ['l', 'u', 'w', 'm']) mkdirSync(join(d, s));
    const r = spawnSync(findTool('unshare'), ['--mount', '--propagation', 'private', '--', findTool('mount'), '-t', 'overlay', 'probe', '-o', `lowerdir=${d}/l,upperdir=${d}/u,workdir=${d}/w`, `${d}/m`], { stdio: 'ignore' });
    probed = r.status === 0;
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
  return probed;
}

function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/**
 * `cp -a SRC/. DEST/`. As root, SRC is bind-mounted `nosymfollow` in a private mount namespace
 * for the copy: cp's walk goes by path, and a directory of SRC swapped for a symlink meanwhile
 * must not lead it outside (docs/PATH-SAFETY.md).
 */
function copySnapshot(src: string, dest: string): void {
  const cp = findTool('cp');
  if (process.getuid?.() !== 0) {
    execFileSync(cp, ['-a', '--remove-destination', `${src}/.`, `${dest}/`], { stdio: ['ignore', 'ignore', 'pipe'] });
    return;
  }
  const at = mkdtempSync(join(dirname(dest), '.copy-src-'));
  try {
    const script = 'set -e; "$mount" --bind "$SRC" "$AT"; "$mount" -o remount,bind,ro,nosymfollow "$AT"; exec "$cp" -a --remove-destination "$AT/." "$DEST/"';
    execFileSync(findTool('unshare'), ['--mount', '--propagation', 'private', '--', 'sh', '-c', script], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', mount: findTool('mount'), cp, SRC: src, AT: at, DEST: dest },
    });
  } finally {
    rmSync(at, { recursive: true, force: true });
  }
}

/**
 * The copying fallback's root filesystem: the merged view of the snapshots copied into `dest`
 * (bottom → top, `cp -a` keeps owners, modes, nanosecond times, xattrs and hard links), with
 * whiteouts and opaque directories applied. Files are copied, never hard-linked to a snapshot:
 * a container writing through a shared inode would change the snapshot for everyone.
 */
export function buildCopyRootfs(lowers: readonly LowerDir[], dest: string): void {
  mkdirSync(dest, { recursive: true });
  for (const l of [...lowers].reverse()) {
    const whiteouts: string[] = [];
    const prepare = (rel: string) => {
      const abs = rel === '.' ? l.dir : join(l.dir, rel);
      for (const name of readdirSync(abs)) {
        const crel = joinRel(rel, name);
        const st = lstatSync(join(abs, name));
        const target = join(dest, crel);
        const existing = lstatOrUndefined(target);
        if (isWhiteout(st)) {
          if (existing) rmSync(target, { recursive: true, force: true });
          whiteouts.push(crel);
          continue;
        }
        if (existing && (existing.isDirectory() !== st.isDirectory())) rmSync(target, { recursive: true, force: true });
        if (st.isDirectory()) {
          if (l.opaque.has(crel) && existing?.isDirectory()) {
            for (const child of readdirSync(target)) rmSync(join(target, child), { recursive: true, force: true });
          }
          prepare(crel);
        }
      }
    };
    prepare('.');
    try {
      copySnapshot(l.dir, dest);
    } catch (err) {
      throw new StrataError('IO_ERROR', `copying snapshot ${l.dir}: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`, { cause: err });
    }
    for (const w of whiteouts) {
      const st = lstatOrUndefined(join(dest, w));
      if (st && isWhiteout(st)) rmSync(join(dest, w), { force: true });
    }
  }
  if (!existsSync(dest)) mkdirSync(dest);
}
