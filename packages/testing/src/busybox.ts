import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, renameSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER } from './peers';
import { REPO_ROOT } from './cli';

/** Where Debian's busybox-static puts the binary. */
export const BUSYBOX_BIN = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p)) ?? '/bin/busybox';
/** The tag tests use for the local busybox base (there is no Docker Hub here). */
export const BUSYBOX_TAG = 'strata-test/busybox:latest';

/**
 * A deterministic busybox root filesystem tar (like the official busybox image: applets are
 * hard links to /bin/busybox, plus /etc/passwd and /etc/group with a few users), made by the
 * same script the quick start uses. Cached by busybox size and script content.
 */
export function busyboxRootfsTar(): string {
  const script = join(REPO_ROOT, 'tools', 'make-busybox-rootfs.sh');
  const key = createHash('sha256').update(readFileSync(script)).update(String(statSync(BUSYBOX_BIN).size)).digest('hex').slice(0, 12);
  const out = join(tmpdir(), `strata-busybox-rootfs-${key}.tar`);
  if (existsSync(out)) return out;
  const tmp = `${out}.${process.pid}.tmp`;
  execFileSync('bash', [script, tmp], { stdio: ['ignore', 'ignore', 'inherit'] });
  renameSync(tmp, out);
  return out;
}

/** Serialise across vitest workers with a directory lock. */
function withLock<T>(name: string, fn: () => T): T {
  const lock = join(tmpdir(), `${name}.lock`);
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (i > 600) rmSync(lock, { recursive: true, force: true });
      execFileSync('sleep', ['0.1']);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Make sure Docker has the busybox base image (`strata-test/busybox:latest`); returns its tag. */
export function ensureDockerBusybox(): string {
  return withLock('strata-docker-busybox', () => {
    try {
      execFileSync(DOCKER, ['image', 'inspect', BUSYBOX_TAG], { stdio: 'ignore' });
    } catch {
      execFileSync(DOCKER, ['import', '--change', 'CMD ["sh"]', busyboxRootfsTar(), BUSYBOX_TAG], { stdio: 'ignore' });
    }
    return BUSYBOX_TAG;
  });
}
