// Against the real engine: `strata image export` has the same entries as `docker export` of a
// container created from the image, and `strata layer diff` gives the changes the two `docker
// export`s show. Goldens: test-fixtures/layers/ (regenerate: node tools/goldens/layers.mjs).
// Entries Docker adds to every container and that are not in the image are excluded, as the
// goldens script says: /.dockerenv, /etc/hostname, /etc/hosts, /etc/resolv.conf, /etc/mtab,
// /dev/console, /dev/pts, /dev/shm (the init layer and bind-mount targets).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { readTar } from '@strata/tar';
import { walkTree } from '@strata/layer';
import { cleanupTempDirs, DOCKER, ensureDockerBusybox, isRoot, peerAvailable, REPO_ROOT, requireOrSkip, runStrata, tempDir } from '@strata/testing';

const FIX = join(REPO_ROOT, 'test-fixtures/layers');
const CASES = readdirSync(join(FIX, 'images')).sort();
const PREFIX = 'strata-it-layers/';
const EXCLUDED = ['.dockerenv', 'etc/hostname', 'etc/hosts', 'etc/resolv.conf', 'etc/mtab', 'dev/console', 'dev/pts', 'dev/shm'];
const docker = (args: string[]) => execFileSync(DOCKER, args, { encoding: 'utf8', env: { ...process.env, DOCKER_BUILDKIT: '1' }, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

async function entries(tar: Buffer) {
  const out: Array<Record<string, unknown>> = [];
  for await (const { entry: e, body } of readTar(Readable.from([tar]))) {
    const h = createHash('sha256');
    for await (const c of body) h.update(c);
    const r: Record<string, unknown> = { path: e.path, type: e.type, mode: e.mode.toString(8), uid: e.uid, gid: e.gid, size: e.size };
    if (e.type === 'file') r.sha256 = h.digest('hex');
    if (e.type === 'symlink' || e.type === 'hardlink') r.linkname = e.linkname;
    out.push(r);
  }
  return out;
}

describe.skipIf(!peerAvailable('docker'))('layers against docker export', () => {
  let root: string;
  let base: string;
  beforeAll(() => {
    base = ensureDockerBusybox();
    for (const c of CASES) docker(['build', '-q', '-t', `${PREFIX}${c}`, join(FIX, 'images', c)]);
    root = tempDir();
    const archive = join(tempDir(), 'all.tar');
    docker(['save', '-o', archive, base, ...CASES.map((c) => `${PREFIX}${c}`)]);
    execFileSync(process.execPath, [join(REPO_ROOT, 'dist/strata.cjs'), '--root', root, 'image', 'load', '-i', archive], { stdio: 'ignore' });
  });
  afterAll(() => {
    for (const c of CASES) {
      try {
        docker(['rmi', `${PREFIX}${c}`]);
      } catch {
        // already gone
      }
    }
    cleanupTempDirs();
  });

  it(`has at least 10 docker-built cases (${CASES.length})`, () => expect(CASES.length).toBeGreaterThanOrEqual(10));

  for (const c of CASES) {
    it(`image export ${c} = docker export`, async () => {
      const r = await runStrata(['image', 'export', `${PREFIX}${c}`], { root });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const got = (await entries(r.stdout)).filter((e) => !EXCLUDED.some((x) => e.path === x || String(e.path).startsWith(`${x}/`)));
      expect(got).toEqual(json(join(FIX, 'images', c, 'export.json')));
    });

    it(`layer diff base ${c} = the docker exports' difference`, async () => {
      const r = await runStrata(['--format', 'json', 'layer', 'diff', '--ignore-mtime', base, `${PREFIX}${c}`], { root });
      expect(r.stderr).toBe('');
      const got = r.out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)).map((x) => {
        const o: Record<string, unknown> = { kind: { add: 'A', modify: 'C', delete: 'D' }[x.kind as string], path: x.path };
        if (x.what) o.what = x.what.filter((w: string) => w !== 'mtime');
        return o;
      });
      const want = json(join(FIX, 'images', c, 'diff-base.json'));
      const key = (x: { path: string }) => x.path;
      expect([...got].sort((a, b) => (key(a as never) < key(b as never) ? -1 : 1))).toEqual(want);
      expect(r.code).toBe(want.length ? 1 : 0);
    });
  }

  for (const f of readdirSync(join(FIX, 'pairs'))) {
    const [a, b] = f.replace(/\.json$/, '').split('__');
    it(`layer diff ${a} ${b} (text form, like docker diff)`, async () => {
      const r = await runStrata(['layer', 'diff', '--ignore-mtime', `${PREFIX}${a}`, `${PREFIX}${b}`], { root });
      const want = json(join(FIX, 'pairs', f)) as Array<{ kind: string; path: string }>;
      expect(r.out.trim().split('\n').filter(Boolean).sort()).toEqual(want.map((x) => `${x.kind} ${x.path}`).sort());
      expect(r.code).toBe(1);
    });
  }

  it('layer ls: each layer with its history line; --files --layer shows whiteouts as deletions and opaque dirs', async () => {
    const r = await runStrata(['--format', 'json', 'layer', 'ls', `${PREFIX}07-delete`], { root });
    const recs = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(recs.map((x) => x.index)).toEqual([0, 1, 2, 3]);
    expect(recs[2].createdBy).toContain('rm -rf /d/x && rm /d/g');
    expect(recs[2].whiteouts).toBe(4);
    const f = await runStrata(['--format', 'json', 'layer', 'ls', `${PREFIX}07-delete`, '--files', '--layer', '2'], { root });
    const files = f.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(files).toEqual(expect.arrayContaining([{ path: '/d/g', change: 'D' }, { path: '/d/x', change: 'D' }, { path: '/bin/vi', change: 'D' }, { path: '/etc/group', change: 'D' }]));
    const o = await runStrata(['layer', 'ls', `${PREFIX}08-opaque`, '--files', '--layer', '2'], { root });
    expect(o.out).toContain('/opq (opaque: lower content hidden)');
    const t = await runStrata(['layer', 'ls', `${PREFIX}07-delete`], { root });
    expect(t.out.split('\n')[0]).toMatch(/^INDEX +DIFF ID +SIZE +FILES +CREATED BY$/);
  });

  it('layer diff REF alone: each layer against the one below', async () => {
    const r = await runStrata(['layer', 'diff', '--ignore-mtime', `${PREFIX}07-delete`], { root });
    const lines = r.out.trim().split('\n');
    expect(lines).toEqual(expect.arrayContaining(['1 A /d/x/y/f', '2 D /d/g', '2 D /d/x', '2 D /bin/vi', '3 D /d', '3 D /var/www']));
    expect(lines.filter((l) => l.startsWith('0 ')).length).toBeGreaterThan(250);
    expect(r.code).toBe(1);
  });

  it('layer diff reads image archives (docker save) as operands', async () => {
    const archive = join(tempDir(), 'one.tar');
    docker(['save', '-o', archive, `${PREFIX}01-create`]);
    const same = await runStrata(['layer', 'diff', archive, `${PREFIX}01-create`], { root });
    expect([same.code, same.out, same.stderr]).toEqual([0, '', '']);
    const ex = await runStrata(['image', 'export', archive], { root });
    expect(ex.code).toBe(0);
  });

  // Each layer against the one below, checked against Docker's own layer tars (docker save):
  // every change strata reports at layer i is an entry (or under a whiteout / opaque marker) of
  // Docker's layer i, and every whiteout of Docker's layer i is a deletion strata reports there.
  for (const c of CASES) {
    it(`layer diff ${c} (per layer) agrees with Docker's own layers`, async () => {
      const w = tempDir();
      docker(['save', '-o', join(w, 'img.tar'), `${PREFIX}${c}`]);
      execFileSync('tar', ['-xf', join(w, 'img.tar'), '-C', w]);
      const layerTars: string[] = json(join(w, 'manifest.json'))[0].Layers;
      const r = await runStrata(['--format', 'json', 'layer', 'diff', `${PREFIX}${c}`], { root });
      const changes = r.out.trim().split('\n').map((l) => JSON.parse(l)) as Array<{ kind: string; path: string; layer: number }>;
      for (let i = 1; i < layerTars.length; i++) {
        const entries = new Set<string>();
        const whiteouts = new Set<string>();
        const opaque = new Set<string>();
        for await (const { entry } of readTar(Readable.from([readFileSync(join(w, layerTars[i]))]))) {
          const base = entry.path.slice(entry.path.lastIndexOf('/') + 1);
          const dir = entry.path.includes('/') ? entry.path.slice(0, entry.path.lastIndexOf('/')) : '';
          if (base === '.wh..wh..opq') opaque.add(`/${dir}`);
          else if (base.startsWith('.wh.')) whiteouts.add(`/${dir ? `${dir}/` : ''}${base.slice(4)}`);
          else entries.add(`/${entry.path}`);
        }
        const mine = changes.filter((x) => x.layer === i);
        const covered = (p: string) => {
          for (let q = p; q; q = q.slice(0, q.lastIndexOf('/'))) {
            if (whiteouts.has(q)) return true;
            if (q !== p && opaque.has(q)) return true;
          }
          return false;
        };
        for (const x of mine) {
          if (x.kind === 'delete') expect(covered(x.path), `${c} layer ${i}: D ${x.path}`).toBe(true);
          else expect(entries.has(x.path), `${c} layer ${i}: ${x.kind} ${x.path}`).toBe(true);
        }
        const deleted = new Set(mine.filter((x) => x.kind === 'delete').map((x) => x.path));
        for (const t of whiteouts) {
          let ok = false;
          for (let q = t; q && !ok; q = q.slice(0, q.lastIndexOf('/'))) ok = deleted.has(q);
          expect(ok, `${c} layer ${i}: whiteout ${t}`).toBe(true);
        }
      }
    });
  }

  // Extraction, against the same goldens: Docker's own layer tars applied one after another
  // with `layer apply` give the tree `docker export` shows.
  const asRoot = requireOrSkip(isRoot(), 'layer apply of Docker layers needs root (owners, devices)');
  for (const c of CASES) {
    it.skipIf(!asRoot)(`layer apply of ${c}'s docker layers = docker export`, async () => {
      const w = tempDir();
      docker(['save', '-o', join(w, 'img.tar'), `${PREFIX}${c}`]);
      execFileSync('tar', ['-xf', join(w, 'img.tar'), '-C', w]);
      const target = join(w, 'rootfs');
      mkdirSync(target);
      for (const l of json(join(w, 'manifest.json'))[0].Layers as string[]) {
        const r = await runStrata(['layer', 'apply', target, '-i', join(w, l)]);
        expect([r.code, r.out]).toEqual([0, '']);
      }
      const got = [...walkTree(target)].map((e) => {
        const r: Record<string, unknown> = { path: e.path, type: e.type, mode: e.mode.toString(8), uid: e.uid, gid: e.gid, size: e.size };
        if (e.type === 'file') r.sha256 = createHash('sha256').update(readFileSync(e.sourcePath!)).digest('hex');
        if (e.type === 'symlink' || e.type === 'hardlink') r.linkname = e.linkname;
        if (e.type === 'char' || e.type === 'fifo') r.size = 0;
        return r;
      });
      expect(got).toEqual(json(join(FIX, 'images', c, 'export.json')));
    });
  }

  it('layer diff of an image with itself is empty, exit 0', async () => {
    const r = await runStrata(['layer', 'diff', `${PREFIX}${CASES[0]}`, `${PREFIX}${CASES[0]}`], { root });
    expect([r.code, r.out]).toEqual([0, '']);
  });
});
