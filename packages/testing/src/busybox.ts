import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack as tarPack } from 'tar-stream';
import { DOCKER } from './peers';

/** Where Debian's busybox-static puts the binary. */
export const BUSYBOX_BIN = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p)) ?? '/bin/busybox';
/** The tag tests use for the local busybox base (there is no Docker Hub here). */
export const BUSYBOX_TAG = 'strata-test/busybox:latest';

const MTIME = new Date('2024-01-01T00:00:00Z');

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/home:/bin/false
`;
const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
tty:x:5:
www-data:x:33:
staff:x:50:
app:x:1000:
users:x:100:
nogroup:x:65534:
`;

/**
 * A deterministic busybox root filesystem tar (like the official busybox image: applets are
 * hard links to /bin/busybox, plus /etc/passwd and /etc/group with a few users). Cached by path.
 */
export function busyboxRootfsTar(): string {
  const out = join(tmpdir(), `strata-busybox-rootfs-${statSync(BUSYBOX_BIN).size}.tar`);
  if (existsSync(out)) return out;
  const applets = execFileSync(BUSYBOX_BIN, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox').sort();
  const pack = tarPack();
  const chunks: Buffer[] = [];
  pack.on('data', (b: unknown) => chunks.push(b as Buffer));
  const dir = (name: string, mode = 0o755) => pack.entry({ name, type: 'directory', mode, mtime: MTIME, uid: 0, gid: 0 });
  for (const d of ['bin/', 'dev/', 'etc/', 'home/', 'home/app/', 'proc/', 'root/', 'sys/', 'usr/', 'usr/bin/', 'var/', 'var/www/']) dir(d, d === 'root/' ? 0o700 : 0o755);
  dir('tmp/', 0o1777);
  const bin = readFileSync(BUSYBOX_BIN);
  pack.entry({ name: 'bin/busybox', mode: 0o755, mtime: MTIME, uid: 0, gid: 0, size: bin.length }, bin);
  for (const a of applets) pack.entry({ name: `bin/${a}`, type: 'link', linkname: 'bin/busybox', mode: 0o755, mtime: MTIME, uid: 0, gid: 0 });
  pack.entry({ name: 'etc/passwd', mode: 0o644, mtime: MTIME }, PASSWD);
  pack.entry({ name: 'etc/group', mode: 0o644, mtime: MTIME }, GROUP);
  pack.finalize();
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, Buffer.concat(chunks));
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
