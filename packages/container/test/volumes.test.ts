// Volumes, against Docker 20.10 where it compares: inspect / ls JSON fields, copy-up (named,
// anonymous, VOLUME) with the same files, modes, owners and times, nocopy, :ro → EROFS, tmpfs
// size → ENOSPC, --rm / rm -v, volume rm in use, prune, export | import manifests, and the
// backup recipe with --volumes-from. Containers here use --network none (the bridge has its own
// test file, which counts what containers leave on the host).
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAll } from '@strata/layer';
import { setXattr, writeTar, type TarWriteEntry } from '@strata/tar';
import { cleanupTempDirs, DOCKER, ensureDockerDerivedImage, isRoot, peerAvailable, requireOrSkip, runStrata, STRATA_BIN, tempDir } from '@strata/testing';
import { importBase, IMAGE } from './helpers';
import { manifest } from './manifest';

const ok = requireOrSkip(isRoot(), 'needs root') && peerAvailable('runc') && peerAvailable('docker');
const TAG = `strata-it-vol/copyup:${process.pid}`;
const TAG_VOL = `strata-it-vol/copyup-volume:${process.pid}`;
const V = `strata-it-vol-${process.pid}`;

const M = 1_600_000_000;
const entries: TarWriteEntry[] = [
  { path: 'data', type: 'dir', mode: 0o2755, uid: 0, gid: 50, size: 0, mtime: M },
  { path: 'data/a.txt', type: 'file', mode: 0o640, uid: 1000, gid: 1000, size: 5, mtime: M + 1, data: 'alpha' },
  { path: 'data/exec', type: 'file', mode: 0o755, uid: 0, gid: 0, size: 3, mtime: M + 2, data: 'run' },
  { path: 'data/hard', type: 'hardlink', mode: 0o640, uid: 1000, gid: 1000, size: 0, mtime: M + 1, linkname: 'data/a.txt' },
  { path: 'data/link', type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtime: M + 3, linkname: 'a.txt' },
  { path: 'data/sub', type: 'dir', mode: 0o750, uid: 33, gid: 33, size: 0, mtime: M + 4 },
  { path: 'data/sub/b', type: 'file', mode: 0o600, uid: 33, gid: 33, size: 4, mtime: M + 5, data: 'beta' },
  { path: 'data/sub/empty', type: 'dir', mode: 0o1777, uid: 0, gid: 0, size: 0, mtime: M + 6 },
];

describe.skipIf(!ok)('volumes, against Docker 20.10', () => {
  const work = tempDir('strata-vol-');
  const root = join(work, 'store');
  const s = (args: string[], input?: string) => runStrata(args, { root, input });
  const dk = (args: string[]) => execFileSync(DOCKER, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const dkTry = (args: string[]) => {
    try {
      return { code: 0, out: dk(args), err: '' };
    } catch (e) {
      const x = e as { status: number; stdout: string; stderr: string };
      return { code: x.status, out: x.stdout, err: x.stderr };
    }
  };
  const mountpoint = async (name: string) => JSON.parse((await s(['volume', 'inspect', name])).out)[0].Mountpoint as string;
  const dkMountpoint = (name: string) => JSON.parse(dk(['volume', 'inspect', name]))[0].Mountpoint as string;
  const dockerVolumes: string[] = [];

  beforeAll(async () => {
    await importBase(root);
    const tar = join(work, 'data.tar');
    writeFileSync(tar, await readAll(writeTar(entries)));
    ensureDockerDerivedImage(TAG, [tar]);
    const c = dk(['create', TAG, 'true']).trim();
    dk(['commit', '--change', 'VOLUME /data', c, TAG_VOL]);
    dk(['rm', c]);
    execFileSync('sh', ['-c', `${DOCKER} save ${TAG} ${TAG_VOL} | ${process.execPath} ${STRATA_BIN} --root ${root} image load`], { stdio: 'ignore' });
  }, 180_000);

  afterAll(async () => {
    for (const id of (await s(['container', 'ls', '-a', '-q', '--no-trunc'])).out.split('\n').filter(Boolean)) await s(['container', 'rm', '-f', id]);
    dkTry(['rmi', '-f', TAG, TAG_VOL]);
    if (dockerVolumes.length) dkTry(['volume', 'rm', '-f', ...dockerVolumes]);
    cleanupTempDirs();
  });

  it('create / inspect / ls --format json have Docker\'s fields', async () => {
    dockerVolumes.push(`${V}-a`);
    dk(['volume', 'create', '--label', 'a=b', '--label', 'c', `${V}-a`]);
    expect((await s(['volume', 'create', '--label', 'a=b', '--label', 'c', `${V}-a`])).out).toBe(`${V}-a\n`);
    const d = JSON.parse(dk(['volume', 'inspect', `${V}-a`]))[0];
    const m = JSON.parse((await s(['volume', 'inspect', `${V}-a`])).out)[0];
    expect(Object.keys(m)).toEqual(Object.keys(d));
    expect({ ...m, CreatedAt: 'T', Mountpoint: 'M' }).toEqual({ ...d, CreatedAt: 'T', Mountpoint: 'M' });
    expect(m.CreatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(m.Mountpoint).toBe(join(root, 'volumes', `${V}-a`, '_data'));
    const dLs = JSON.parse(dk(['volume', 'ls', '--format', '{{json .}}', '--filter', `name=${V}-a`]).trim());
    const mLs = JSON.parse((await s(['--format', 'json', 'volume', 'ls', '--filter', `name=${V}-a`])).out.trim());
    // (Docker joins the labels in Go's map order, which varies)
    const labels = (l: string) => l.split(',').sort().join(',');
    expect({ ...mLs, Mountpoint: 'M', Labels: labels(mLs.Labels) }).toEqual({ ...dLs, Mountpoint: 'M', Labels: labels(dLs.Labels) });
    // Docker's messages for bad names and missing volumes
    expect((await s(['volume', 'create', 'a'])).stderr).toMatch(/volume name is too short, names should be at least two alphanumeric characters/);
    expect((await s(['volume', 'create', 'bad/name'])).stderr).toMatch(/includes invalid characters for a local volume name/);
    const missing = await s(['volume', 'inspect', 'nosuch-vol']);
    expect([missing.code, missing.stderr]).toEqual([2, 'strata: no such volume: nosuch-vol\n']);
    expect((await s(['volume', 'ls', '-q', '--filter', 'label=a=b'])).out).toBe(`${V}-a\n`);
    expect((await s(['volume', 'ls', '-q', '--filter', 'label=a=x'])).out).toBe('');
    expect((await s(['volume', 'ls', '--filter', 'bogus=1'])).code).toBe(2);
  });

  it('copy-up: an empty volume gets the image\'s files, modes, owners and times, as Docker\'s (named, anonymous, VOLUME)', async () => {
    // named
    dockerVolumes.push(`${V}-named`);
    // (the kernel's clock: a file written now)
    writeFileSync(join(work, 'now'), '');
    const t0 = Math.floor(statSync(join(work, 'now')).mtimeMs / 1000) - 1;
    dk(['run', '--rm', '--network', 'none', '-v', `${V}-named:/data`, TAG, 'true']);
    // Docker keeps files' times; a directory's is the time of the copy (its children were written
    // into it): strata does the same.
    const want = manifest(dkMountpoint(`${V}-named`), { mtimes: 'files' });
    expect(want.map((e) => e.path)).toEqual(['.', 'a.txt', 'exec', 'hard', 'link', 'sub', 'sub/b', 'sub/empty']);
    expect(want.find((e) => e.path === 'a.txt')?.mtime).toBe(M + 1);
    const dirTimes = (m: ReturnType<typeof manifest>) => m.filter((e) => e.type === 'dir').map((e) => (e.mtime! >= t0 ? 'copy time' : e.mtime));
    // (an empty directory keeps its time: nothing was written into it)
    expect(dirTimes(manifest(dkMountpoint(`${V}-named`), { mtimes: true }))).toEqual(['copy time', 'copy time', M + 6]);
    expect((await s(['container', 'run', '--rm', '--network', 'none', '-v', `${V}-named:/data`, TAG, 'true'])).code).toBe(0);
    expect(manifest(await mountpoint(`${V}-named`), { mtimes: 'files' })).toEqual(want);
    expect(dirTimes(manifest(await mountpoint(`${V}-named`), { mtimes: true }))).toEqual(['copy time', 'copy time', M + 6]);
    // anonymous (-v /data) and the image's VOLUME: the same content
    for (const [args, image] of [[['-v', '/data'], TAG], [[], TAG_VOL]] as const) {
      const dc = dk(['create', '--network', 'none', ...args, image, 'true']).trim();
      const dVol = JSON.parse(dk(['inspect', dc]))[0].Mounts[0];
      expect(manifest(dVol.Source, { mtimes: 'files' })).toEqual(want);
      dk(['rm', '-v', dc]);
      const c = (await s(['container', 'create', '--network', 'none', ...args, image, 'true'])).out.trim();
      const mnt = JSON.parse((await s(['container', 'inspect', c])).out)[0].Mounts[0];
      expect(mnt).toMatchObject({ Type: 'volume', Destination: '/data', Driver: 'local', RW: true });
      expect(mnt.Name).toMatch(/^[0-9a-f]{64}$/);
      expect(manifest(mnt.Source, { mtimes: 'files' })).toEqual(want);
      expect((await s(['container', 'rm', '-v', c])).code).toBe(0);
    }
  });

  it('nocopy leaves the volume empty; a bind mount never copies; a non-empty volume is not copied into', async () => {
    expect((await s(['container', 'run', '--rm', '--network', 'none', '-v', `${V}-nocopy:/data:nocopy`, TAG, 'true'])).code).toBe(0);
    expect(manifest(await mountpoint(`${V}-nocopy`), { root: false })).toEqual([]);
    expect((await s(['container', 'run', '--rm', '--network', 'none', '--mount', `type=volume,src=${V}-nocopy2,dst=/data,volume-nocopy`, TAG, 'true'])).code).toBe(0);
    expect(manifest(await mountpoint(`${V}-nocopy2`), { root: false })).toEqual([]);
    const host = join(work, 'bind');
    mkdirSync(host);
    expect((await s(['container', 'run', '--rm', '--network', 'none', '-v', `${host}:/data`, TAG, 'true'])).code).toBe(0);
    expect(manifest(host, { root: false })).toEqual([]);
    writeFileSync(join(await mountpoint(`${V}-nocopy`), 'mine'), 'x');
    expect((await s(['container', 'run', '--rm', '--network', 'none', '-v', `${V}-nocopy:/data`, TAG, 'ls', '/data'])).out).toBe('mine\n');
  });

  it(':ro makes writes fail with EROFS; tmpfs size= fails with ENOSPC past its size (as Docker)', async () => {
    const host = join(work, 'ro');
    mkdirSync(host);
    const write = ['sh', '-c', 'echo x > /data/new'];
    const fill = ['dd', 'if=/dev/zero', 'of=/t/f', 'bs=64k', 'count=32'];
    const dRo = dkTry(['run', '--rm', '--network', 'none', '-v', `${host}:/data:ro`, TAG, ...write]);
    const dFull = dkTry(['run', '--rm', '--network', 'none', '--tmpfs', '/t:size=1m', TAG, ...fill]);
    for (const ro of [['-v', `${host}:/data:ro`], ['-v', `${V}-ro:/data:ro`], ['--mount', `type=bind,src=${host},dst=/data,readonly`]]) {
      const r = await s(['container', 'run', '--rm', '--network', 'none', ...ro, TAG, ...write]);
      expect([r.code, r.stderr]).toEqual([dRo.code, dRo.err]);
      expect(r.stderr).toMatch(/Read-only file system/);
    }
    for (const t of [['--tmpfs', '/t:size=1m'], ['--mount', 'type=tmpfs,dst=/t,tmpfs-size=1m']]) {
      const r = await s(['container', 'run', '--rm', '--network', 'none', ...t, TAG, ...fill]);
      expect(r.code).toBe(dFull.code);
      expect(r.stderr).toMatch(/No space left on device/);
      expect(dFull.err).toMatch(/No space left on device/);
    }
  });

  it('--rm and rm -v remove anonymous volumes, named ones stay; rm alone leaves them dangling', async () => {
    const count = async () => (await s(['volume', 'ls', '-q'])).out.split('\n').filter(Boolean).length;
    const n0 = await count();
    expect((await s(['container', 'run', '--rm', '--network', 'none', '-v', '/anon', '-v', `${V}-keep:/keep`, TAG, 'true'])).code).toBe(0);
    expect(await count()).toBe(n0 + 1);
    expect((await s(['volume', 'ls', '-q', '--filter', `name=${V}-keep`])).out).toBe(`${V}-keep\n`);
    const c = (await s(['container', 'create', '--network', 'none', '-v', '/anon', TAG, 'true'])).out.trim();
    const anon = JSON.parse((await s(['container', 'inspect', c])).out)[0].Mounts[0].Name;
    expect((await s(['volume', 'ls', '-q', '--filter', 'dangling=true'])).out).not.toContain(anon);
    expect((await s(['container', 'rm', c])).code).toBe(0);
    expect((await s(['volume', 'ls', '-q', '--filter', 'dangling=true'])).out).toContain(anon);
    const inspect = JSON.parse((await s(['volume', 'inspect', anon])).out)[0];
    expect(inspect.Labels).toEqual({ 'com.docker.volume.anonymous': '' });
    const c2 = (await s(['container', 'create', '--network', 'none', '-v', '/anon', TAG, 'true'])).out.trim();
    const anon2 = JSON.parse((await s(['container', 'inspect', c2])).out)[0].Mounts[0].Name;
    expect((await s(['container', 'rm', '-v', c2])).code).toBe(0);
    expect((await s(['volume', 'inspect', anon2])).code).toBe(2);
  });

  it('volume rm refuses a volume in use (Docker\'s message) unless -f, and never under a running container', async () => {
    dockerVolumes.push(`${V}-used`);
    const dc = dk(['create', '-v', `${V}-used:/data`, TAG, 'true']).trim();
    const dErr = dkTry(['volume', 'rm', `${V}-used`]).err;
    dk(['rm', dc]);
    const c = (await s(['container', 'create', '--network', 'none', '-v', `${V}-used:/data`, TAG, 'true'])).out.trim();
    const r = await s(['volume', 'rm', `${V}-used`]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`strata: remove ${V}-used: volume is in use - [${c}]`);
    expect(dErr).toMatch(new RegExp(`remove ${V}-used: volume is in use - \\[[0-9a-f]{64}\\]`));
    const running = (await s(['container', 'run', '-d', '--network', 'none', '-v', `${V}-used:/data`, TAG, 'sleep', '30'])).out.trim();
    const f = await s(['volume', 'rm', '-f', `${V}-used`]);
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/volume is in use/);
    await s(['container', 'rm', '-f', running]);
    expect((await s(['volume', 'rm', '-f', `${V}-used`])).code).toBe(0);
    expect((await s(['volume', 'rm', '-f', 'nosuch-vol'])).code).toBe(0);
    await s(['container', 'rm', c]);
  });

  it('prune: unused anonymous volumes only, named ones too with --all (current Docker), label filters', async () => {
    await s(['volume', 'create', '--label', 'keep=yes', `${V}-p1`]);
    await s(['volume', 'create', `${V}-p2`]);
    const c = (await s(['container', 'create', '--network', 'none', '-v', '/anon', TAG, 'true'])).out.trim();
    const anon = JSON.parse((await s(['container', 'inspect', c])).out)[0].Mounts[0].Name;
    await s(['container', 'rm', c]);
    const p = await s(['volume', 'prune', '-f']);
    expect(p.out).toContain(`Deleted Volumes:\n`);
    expect(p.out).toContain(`${anon}\n`);
    expect(p.out).not.toContain(`${V}-p2`);
    expect(p.out).toMatch(/Total reclaimed space: \d/);
    const all = await s(['volume', 'prune', '-f', '--all', '--filter', 'label!=keep=yes']);
    expect(all.out).toContain(`${V}-p2\n`);
    expect(all.out).not.toContain(`${V}-p1`);
    expect((await s(['volume', 'ls', '-q', '--filter', `name=${V}-p`])).out).toBe(`${V}-p1\n`);
  });

  it('volume export | volume import gives an identical manifest', async () => {
    await s(['volume', 'create', `${V}-src`]);
    const dir = await mountpoint(`${V}-src`);
    execFileSync('sh', ['-c', [
      'set -e', `cd ${dir}`, 'mkdir -p d/e', 'echo one > d/f', 'ln d/f d/f2', 'ln -s ../f d/e/sym', 'mkfifo p', 'printf x > .wh.not-a-whiteout',
      'chown 1234:5678 d/f', 'chmod 4751 d/f', 'chmod 2770 d/e', 'head -c 300000 /dev/urandom > big', 'touch -d @1500000000 big', 'chmod 700 .',
    ].join(' && ')]);
    setXattr(join(dir, 'big'), 'user.note', Buffer.from([0, 1, 2, 255]));
    execFileSync('sh', ['-c', `${process.execPath} ${STRATA_BIN} --root ${root} volume export ${V}-src | ${process.execPath} ${STRATA_BIN} --root ${root} volume import ${V}-copy`]);
    const a = manifest(dir, { mtimes: true });
    expect(a.find((e) => e.path === 'big')?.xattrs).toEqual({ 'user.note': 'AAEC/w==' });
    expect(a.find((e) => e.path === 'd/f2')?.hardlinkOf).toBe('d/f');
    expect(manifest(await mountpoint(`${V}-copy`), { mtimes: true })).toEqual(a);
    const into = await s(['volume', 'import', `${V}-src`], 'x'.repeat(1024));
    expect(into.code).toBe(2);
    expect(into.stderr).toMatch(/the volume is not empty/);
  });

  it('the backup recipe: --volumes-from + tar out, tar in to another container\'s volume, same data', async () => {
    const cwd = join(work, 'backup');
    mkdirSync(cwd);
    const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { cwd, encoding: 'utf8', env: { ...process.env, S: `${process.execPath} ${STRATA_BIN} --root ${root}` } });
    sh(`$S container create --network none -v /dbdata --name dbstore ${IMAGE} true`);
    sh(`$S container run --rm --network none --volumes-from dbstore ${IMAGE} sh -c 'mkdir -p /dbdata/x && echo data > /dbdata/x/f && chown 7:8 /dbdata/x/f && chmod 640 /dbdata/x/f && ln -s f /dbdata/x/l'`);
    sh(`$S container run --rm --network none --volumes-from dbstore -v $PWD:/backup ${IMAGE} tar cvf /backup/backup.tar /dbdata`);
    sh(`$S container create --network none -v /dbdata --name dbstore2 ${IMAGE} true`);
    sh(`$S container run --rm --network none --volumes-from dbstore2 -v $PWD:/backup ${IMAGE} sh -c "cd /dbdata && tar xvf /backup/backup.tar --strip 1"`);
    const vol = async (name: string) => JSON.parse((await s(['container', 'inspect', name])).out)[0].Mounts[0].Source as string;
    // (busybox tar, as GNU tar, keeps files' times; directories get the time of the extraction)
    const a = manifest(await vol('dbstore'), { mtimes: 'files' });
    expect(a.map((e) => e.path)).toEqual(['.', 'x', 'x/f', 'x/l']);
    expect(manifest(await vol('dbstore2'), { mtimes: 'files' })).toEqual(a);
  });
});
