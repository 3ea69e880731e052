import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pack as tarPack } from 'tar-stream';
import {
  busyboxRootfsTar, cleanupTempDirs, DOCKER, STRATA_BIN, docker, dockerOk, ensureDockerBusybox, hashTree, peerAvailable, runCommand, runStrata, tempDir, writeTree,
} from '@strata/testing';
import { sha256 } from '@strata/oci';

const PREFIX = 'strata-it-formats';

afterAll(() => cleanupTempDirs());

type Member = { name: string; data?: string | Buffer; type?: 'file' | 'symlink' | 'directory'; linkname?: string };

async function makeTar(members: Member[]): Promise<Buffer> {
  const pack = tarPack();
  const out: Buffer[] = [];
  pack.on('data', (b: unknown) => out.push(b as Buffer));
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  for (const m of members) {
    await new Promise<void>((res, rej) => {
      if ((m.type ?? 'file') === 'file') {
        const data = Buffer.from(m.data ?? '');
        pack.entry({ name: m.name, size: data.length, mtime: new Date(0) }, data, (e) => (e ? rej(e) : res()));
      } else pack.entry({ name: m.name, type: m.type, linkname: m.linkname, mtime: new Date(0) }, (e) => (e ? rej(e) : res()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(out);
}

async function archive(tag: string, files: Record<string, string> = { 'a.txt': 'a' }) {
  const layer = await makeTar(Object.entries(files).map(([name, data]) => ({ name, data })));
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [sha256(layer)] }, history: [{ created_by: 't' }] }));
  const tar = await makeTar([
    { name: 'L/layer.tar', data: layer },
    { name: 'c.json', data: config },
    { name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', RepoTags: [tag], Layers: ['L/layer.tar'] }]) },
  ]);
  return { tar, layer, config, id: sha256(config) };
}

describe('strata image load / save / import (CLI)', () => {
  it('load from stdin prints Docker\'s lines; --format json gives records; -q the IDs', async () => {
    const root = tempDir();
    const a = await archive('strata-it-formats/cli:1');
    const r = await runStrata(['image', 'load'], { root, input: a.tar });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe('Loaded image: strata-it-formats/cli:1\n');
    const j = await runStrata(['--format', 'json', 'image', 'load', '-i', '-'], { root, input: a.tar });
    expect(JSON.parse(j.out)).toEqual({ id: a.id, tags: ['docker.io/strata-it-formats/cli:1'], layers: 1, format: 'docker-archive' });
    const file = join(tempDir(), 'a.tar');
    writeFileSync(file, gzipSync(a.tar));
    const q = await runStrata(['-q', 'image', 'load', '-i', file], { root });
    expect(q.out).toBe(`${a.id}\n`);
  });

  it('save → load round trip through a file and through stdout, both formats', async () => {
    const root = tempDir();
    const a = await archive('strata-it-formats/rt:1', { 'x/y': 'yy', z: 'z'.repeat(5000) });
    expect((await runStrata(['image', 'load'], { root, input: a.tar })).code).toBe(0);
    const out = join(tempDir(), 'out.tar');
    const s = await runStrata(['image', 'save', '-o', out, 'strata-it-formats/rt:1'], { root });
    expect([s.code, s.stderr, s.out]).toEqual([0, '', '']);
    const names = execFileSync('tar', ['-tf', out]).toString();
    expect(names).toMatch(/\/layer\.tar\n/);
    for (const args of [['--format', 'oci'], ['--format', 'oci', '--compress', 'zstd'], ['--format', 'oci', '--compress', 'none'], []]) {
      const std = await runStrata(['image', 'save', ...args, 'strata-it-formats/rt:1'], { root });
      expect(std.code).toBe(0);
      const root2 = tempDir();
      const back = await runStrata(['--format', 'json', 'image', 'load'], { root: root2, input: std.stdout });
      expect(back.stderr).toBe('');
      expect(JSON.parse(back.out).id).toBe(a.id);
      expect(JSON.parse(back.out).tags).toEqual(['docker.io/strata-it-formats/rt:1']);
    }
  });

  it('save of a bare repository name saves every tag of it, as docker save does', async () => {
    const root = tempDir();
    const a = await archive('strata-it-formats/repo:1', { a: 'a' });
    const b = await archive('strata-it-formats/repo:2', { b: 'b' });
    await runStrata(['image', 'load'], { root, input: a.tar });
    await runStrata(['image', 'load'], { root, input: b.tar });
    const s = await runStrata(['image', 'save', 'strata-it-formats/repo'], { root });
    expect(s.code).toBe(0);
    const manifest = JSON.parse(execFileSync('tar', ['-xO', 'manifest.json'], { input: s.stdout }).toString());
    expect(manifest.map((m: { RepoTags: string[] }) => m.RepoTags).sort()).toEqual([['strata-it-formats/repo:1'], ['strata-it-formats/repo:2']]);
    const byId = await runStrata(['image', 'save', a.id], { root });
    expect(JSON.parse(execFileSync('tar', ['-xO', 'manifest.json'], { input: byId.stdout }).toString())[0].RepoTags).toBeNull();
  });

  it('save refuses unknown formats and compressions with exit 2', async () => {
    const root = tempDir();
    const a = await archive('strata-it-formats/u:1');
    await runStrata(['image', 'load'], { root, input: a.tar });
    const r = await runStrata(['image', 'save', '--format', 'oci', '--compress', 'lz4', 'strata-it-formats/u:1'], { root });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^strata: --compress must be gzip, zstd or none/);
    const m = await runStrata(['image', 'save', 'strata-it-formats/missing:1'], { root });
    expect(m.code).toBe(2);
  });

  it.skipIf(!peerAvailable('script'))('save refuses to write a tar to a terminal', async () => {
    const root = tempDir();
    const a = await archive('strata-it-formats/tty:1');
    await runStrata(['image', 'load'], { root, input: a.tar });
    // `script` gives the command a pseudo-terminal as stdout.
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(STRATA_BIN)} --root ${JSON.stringify(root)} image save strata-it-formats/tty:1`;
    const r = await runCommand('script', ['-qec', cmd, '/dev/null']);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/^strata: refusing to write a tar archive to a terminal\r?\n/);
  });

  it('import a rootfs tar from stdin with --change and -m', async () => {
    const root = tempDir();
    const rootfs = await makeTar([{ name: 'bin/', type: 'directory' }, { name: 'bin/x', data: 'x' }]);
    const r = await runStrata(['image', 'import', '--change', 'CMD ["/bin/x"]', '-c', 'ENV A=1', '-m', 'hello', '-', 'strata-it-formats/imp:1'], { root, input: gzipSync(rootfs) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const id = r.out.trim();
    const config = JSON.parse(readFileSync(join(root, 'blobs', 'sha256', id.slice(7)), 'utf8'));
    expect(config.config.Cmd).toEqual(['/bin/x']);
    expect(config.config.Env).toEqual(['A=1']);
    expect(config.history[0].comment).toBe('hello');
    expect(config.rootfs.diff_ids).toEqual([sha256(rootfs)]);
    const bad = await runStrata(['image', 'import', '--change', 'RUN x', '-', 'strata-it-formats/imp:2'], { root, input: rootfs });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^strata: --change "RUN x": RUN is not a valid change command/);
  });

  describe('bad input: one-line error, exit 2, store byte-for-byte unchanged', () => {
    let good: Awaited<ReturnType<typeof archive>>;
    beforeAll(async () => {
      good = await archive('strata-it-formats/good:1', { big: 'b'.repeat(100_000) });
    });

    const cases: Array<[string, () => Promise<Buffer>, RegExp]> = [
      ['truncated archive', async () => good.tar.subarray(0, 60_000), /truncated/],
      ['blob digest mismatch', async () => {
        const layer = await makeTar([{ name: 'f', data: 'f' }]);
        const cfg = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256('other')] } });
        return makeTar([{ name: 'L/layer.tar', data: layer }, { name: 'c.json', data: cfg }, { name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', RepoTags: ['x:1'], Layers: ['L/layer.tar'] }]) }]);
      }, /diffID/],
      ['manifest.json naming a missing file', async () => makeTar([{ name: 'manifest.json', data: JSON.stringify([{ Config: 'nope.json', RepoTags: [], Layers: [] }]) }]), /nope\.json/],
      ['member ../x', async () => makeTar([{ name: '../x', data: 'x' }]), /escapes/],
      ['member /etc/x', async () => makeTar([{ name: '/etc/x', data: 'x' }]), /absolute/],
      ['not a tar', async () => Buffer.from('hello, I am not a tar\n'.repeat(50)), /not a tar archive/],
    ];

    for (const [name, make, message] of cases) {
      it(name, async () => {
        const root = tempDir();
        expect((await runStrata(['image', 'load'], { root, input: good.tar })).code).toBe(0);
        const before = hashTree(root);
        const bytes = await make();
        const r = await runStrata(['image', 'load'], { root, input: bytes });
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).toMatch(/^strata: [^\n]+\n(hint: [^\n]+\n)?$/);
        expect(r.out).toBe('');
        expect(hashTree(root)).toBe(before);
        const fresh = join(tempDir(), 'fresh-root');
        const f = await runStrata(['image', 'load'], { root: fresh, input: bytes });
        expect(f.code).toBe(2);
        expect(existsSync(fresh)).toBe(false);
      });
    }
  });
});

describe.skipIf(!peerAvailable('docker'))('CLI interop with Docker', () => {
  const APP = `${PREFIX}/cli-app:1`;
  let busybox: string;
  beforeAll(async () => {
    busybox = ensureDockerBusybox();
    const ctx = tempDir();
    writeTree(ctx, {
      Dockerfile: `FROM ${busybox}\nENV GREETING=hi\nLABEL a=b\nCOPY m.txt /m.txt\nRUN echo two > /two\nENTRYPOINT ["/bin/cat"]\nCMD ["/m.txt", "/two"]\n`,
      'm.txt': 'one\n',
    });
    await dockerOk(['build', '-q', '-t', APP, ctx]);
  }, 300_000);
  afterAll(async () => {
    await docker(['rmi', '-f', APP, `${PREFIX}/cli-back:1`, `${PREFIX}/cli-imp:1`]);
  });

  it('docker save | strata image load → same IDs; strata image save | docker load → docker run works, same ID', async () => {
    const root = tempDir();
    const saved = join(tempDir(), 's.tar');
    await dockerOk(['save', '-o', saved, busybox, APP]);
    const load = await runCommand('sh', ['-c', `${JSON.stringify(process.execPath)} ${JSON.stringify(STRATA_BIN)} --root ${root} image load < ${saved}`]);
    expect(load.stderr).toBe('');
    // One line per image, in the order of docker's manifest.json (which docker does not keep stable).
    const manifest = JSON.parse((await runCommand('tar', ['-xOf', saved, 'manifest.json'])).out) as { RepoTags: string[] }[];
    const order = manifest.map((m) => m.RepoTags[0]);
    expect(order.slice().sort()).toEqual([busybox, APP].sort());
    expect(load.out).toBe(order.map((t) => `Loaded image: ${t}\n`).join(''));
    const appId = (await dockerOk(['image', 'inspect', '--format', '{{.Id}}', APP])).out.trim();
    const busyboxId = (await dockerOk(['image', 'inspect', '--format', '{{.Id}}', busybox])).out.trim();
    const q = await runStrata(['-q', 'image', 'load', '-i', saved], { root });
    expect(q.out.trim().split('\n')).toEqual(order.map((t) => (t === APP ? appId : busyboxId)));

    await dockerOk(['rmi', '-f', appId]);
    const dl = await runCommand('bash', ['-o', 'pipefail', '-c', `${JSON.stringify(process.execPath)} ${JSON.stringify(STRATA_BIN)} --root ${root} image save ${APP} | ${DOCKER} load`]);
    expect([dl.code, dl.stderr]).toEqual([0, '']);
    expect(dl.out).toContain(`Loaded image: ${APP}`);
    expect((await dockerOk(['image', 'inspect', '--format', '{{.Id}}', APP])).out.trim()).toBe(appId);
    expect((await dockerOk(['run', '--rm', APP])).out).toBe('one\ntwo\n');
  });

  it('strata image import gives the diffID docker import gives', async () => {
    const root = tempDir();
    const tar = busyboxRootfsTar();
    const r = await runStrata(['image', 'import', tar, `${PREFIX}/cli-imp:1`], { root });
    expect(r.code).toBe(0);
    const config = JSON.parse(readFileSync(join(root, 'blobs', 'sha256', r.out.trim().slice(7)), 'utf8'));
    const dockerLayers = JSON.parse((await dockerOk(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', busybox])).out);
    expect(config.rootfs.diff_ids).toEqual(dockerLayers);
    expect(config.history).toEqual([{ created: config.created, comment: 'Imported from -' }]);
  });
});
