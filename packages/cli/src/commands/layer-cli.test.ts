// CLI tests of layer create/apply/diff/ls and image export/cat/files on the built binary.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxRootfsTar, cleanupTempDirs, hashTree, runStrata, tempDir, writeTree } from '@strata/testing';
import { HOSTILE_CASES, hostileSandbox, tarBytes } from '../../../tar/test/hostile-tars';

afterAll(cleanupTempDirs);

describe('layer apply refuses hostile tars', () => {
  for (const c of HOSTILE_CASES) {
    it(`${c.name}`, async () => {
      const { sandbox, target, outside, before } = hostileSandbox();
      const layers = c.layers(outside);
      let last;
      for (const layer of layers) last = await runStrata(['layer', 'apply', target], { input: await tarBytes(layer) });
      expect(hashTree(outside)).toBe(before);
      expect(readdirSync(sandbox).sort()).toEqual(['outside', 'target']);
      if (c.entry) {
        expect(last!.code).toBe(2);
        expect(last!.stderr).toMatch(/^strata: stdin: entry ".*" /);
        expect(last!.stderr).toContain(c.entry);
        expect(last!.stderr.trim().split('\n')).toHaveLength(1);
      } else {
        expect(last!.code, last!.stderr).toBe(0);
        if (c.replaced) expect(lstatSync(join(target, c.replaced)).isDirectory()).toBe(true);
      }
    });
  }
});

describe('layer create / apply / diff on directories', () => {
  let a: string;
  let b: string;
  beforeAll(() => {
    const w = tempDir();
    a = writeTree(join(w, 'a'), {
      'keep.txt': 'same', 'mod.txt': 'old', 'gone.txt': 'x', 'dir/sub/deep.txt': 'd', 'dir/other': 'o', 'link': { symlink: 'keep.txt' },
      'becomes-dir': 'file', 'mode.sh': { content: '#!/bin/sh', mode: 0o644 },
    });
    b = writeTree(join(w, 'b'), {
      'keep.txt': 'same', 'mod.txt': 'new content', 'added/x.txt': 'x', 'dir/other': 'o', 'link': { symlink: 'mod.txt' },
      'becomes-dir/inner': 'i', 'mode.sh': { content: '#!/bin/sh', mode: 0o755 }, 'hl1': 'shared', 'hl2': { hardlink: 'hl1' },
    });
  });

  it('create then apply turns A into B (file and stdin/stdout forms)', async () => {
    const w = tempDir();
    const out = join(w, 'l.tar');
    const r = await runStrata(['layer', 'create', '--from', a, '--to', b, '-o', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^sha256:[0-9a-f]{64} \d+ changes\n$/);
    const target = join(w, 't');
    execFileSync('cp', ['-a', a, target]);
    const ap = await runStrata(['layer', 'apply', target, '-i', out]);
    expect([ap.code, ap.out]).toEqual([0, '']);
    expect(hashTree(target)).toBe(hashTree(b));
    const listed = execFileSync('tar', ['-tf', out], { encoding: 'utf8' }).split('\n');
    expect(listed).toContain('.wh.gone.txt');
    expect(listed).toContain('dir/.wh.sub');
    expect(listed).not.toContain('keep.txt');
    // stdout → stdin, and the same bytes every time (deterministic)
    const s1 = await runStrata(['layer', 'create', '--from', a, '--to', b]);
    expect(Buffer.compare(s1.stdout, readFileSync(out))).toBe(0);
    const t2 = join(w, 't2');
    execFileSync('cp', ['-a', a, t2]);
    expect((await runStrata(['layer', 'apply', t2], { input: s1.stdout })).code).toBe(0);
    expect(hashTree(t2)).toBe(hashTree(b));
  });

  it('SOURCE_DATE_EPOCH clamps mtimes', async () => {
    const r = await runStrata(['layer', 'create', '--to', b], { env: { SOURCE_DATE_EPOCH: '1000' } });
    const w = tempDir();
    writeFileSync(join(w, 'l.tar'), r.stdout);
    const v = execFileSync('tar', ['--full-time', '-tvf', join(w, 'l.tar')], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    for (const line of v.trim().split('\n')) expect(line).toContain('1970-01-01 00:16:40');
  });

  it('diff prints A/C/D like docker diff and exits 1; equal trees exit 0', async () => {
    const r = await runStrata(['layer', 'diff', '--ignore-mtime', a, b]);
    expect(r.code).toBe(1);
    expect(r.out.trim().split('\n')).toEqual([
      'A /added', 'A /added/x.txt', 'C /becomes-dir', 'A /becomes-dir/inner', 'D /dir/sub', 'D /gone.txt', 'A /hl1', 'A /hl2', 'C /link', 'C /mod.txt', 'C /mode.sh',
    ]);
    const j = await runStrata(['--format', 'json', 'layer', 'diff', '--ignore-mtime', a, b]);
    const recs = j.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(recs.find((x) => x.path === '/mod.txt')).toMatchObject({ kind: 'modify', what: ['size', 'content'], a: { size: 3 }, b: { size: 11 } });
    expect(recs.find((x) => x.path === '/mode.sh')).toMatchObject({ what: ['mode'], a: { mode: '0644' }, b: { mode: '0755' } });
    expect(recs.find((x) => x.path === '/link')).toMatchObject({ what: ['linkname'] });
    const s = await runStrata(['layer', 'diff', '--ignore-mtime', '--summary', a, b]);
    expect(s.out).toBe('added 5 (14 bytes), changed 4 (20 bytes), deleted 2 (2 bytes)\n');
    const same = await runStrata(['layer', 'diff', a, a]);
    expect([same.code, same.out]).toEqual([0, '']);
  });

  it('diff compares a directory with a layer tarball (plain and gzip)', async () => {
    const w = tempDir();
    const t = join(w, 'b.tar');
    execFileSync('tar', ['-C', b, '-cf', t, '.']);
    const r = await runStrata(['layer', 'diff', '--ignore-mtime', b, t]);
    expect([r.out, r.code]).toEqual(['', 0]);
    execFileSync('gzip', ['-k', t]);
    expect((await runStrata(['layer', 'diff', '--ignore-mtime', a, `${t}.gz`])).code).toBe(1);
  });

  it('errors are one line, exit 2', async () => {
    const r = await runStrata(['layer', 'apply', join(a, 'nope')], { input: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^strata: .*not a directory\n$/);
    const g = await runStrata(['layer', 'apply', tempDir()], { input: Buffer.alloc(1024, 7) });
    expect(g.code).toBe(2);
    expect(g.stderr).toMatch(/^strata: stdin: bad header checksum/);
  });
});

describe('image export / cat / files and layer ls on a stored image', () => {
  let root: string;
  beforeAll(async () => {
    root = tempDir();
    const r = await runStrata(['image', 'import', busyboxRootfsTar(), 'bb:1'], { root });
    expect(r.code).toBe(0);
  });

  it('image export streams the root filesystem', async () => {
    const r = await runStrata(['image', 'export', 'bb:1'], { root });
    expect(r.code).toBe(0);
    const w = tempDir();
    writeFileSync(join(w, 'x.tar'), r.stdout);
    const names = execFileSync('tar', ['-tf', join(w, 'x.tar')], { encoding: 'utf8' }).trim().split('\n');
    expect(names).toContain('bin/busybox');
    expect(names).toContain('etc/passwd');
    expect(names).not.toContain('./');
    const o = join(w, 'o.tar');
    expect((await runStrata(['image', 'export', 'bb:1', '-o', o], { root })).code).toBe(0);
    expect(Buffer.compare(readFileSync(o), r.stdout)).toBe(0);
  });

  it('image cat and image files read the merged view', async () => {
    const c = await runStrata(['image', 'cat', 'bb:1', '/etc/passwd'], { root });
    expect(c.out).toContain('app:x:1000:1000');
    const f = await runStrata(['image', 'files', 'bb:1', '/etc'], { root });
    expect(f.out.trim().split('\n')).toEqual(['MODE         UID:GID   SIZE   PATH', expect.stringMatching(/^-rw-r--r-- +0:0 +\d+ +\/etc\/group$/), expect.stringMatching(/\/etc\/passwd$/)]);
    const m = await runStrata(['image', 'cat', 'bb:1', '/etc/nope'], { root });
    expect([m.code, m.stderr]).toEqual([2, 'strata: /etc/nope: no such file in the image\n']);
    const q = await runStrata(['-q', 'image', 'files', 'bb:1', '/'], { root });
    expect(q.out.split('\n')).toContain('/tmp');
  });

  it('layer ls lists layers and files', async () => {
    const r = await runStrata(['--format', 'json', 'layer', 'ls', 'bb:1'], { root });
    const recs = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ index: 0, diffId: expect.stringMatching(/^sha256:/), files: expect.any(Number), whiteouts: 0 });
    const f = await runStrata(['layer', 'ls', 'bb:1', '--files', '--layer', '0'], { root });
    expect(f.out).toContain('/bin/busybox');
    const bad = await runStrata(['layer', 'ls', 'bb:1', '--files', '--layer', '3'], { root });
    expect([bad.code, bad.stderr]).toEqual([2, 'strata: --layer must be between 0 and 0 (the image has 1 layers)\n']);
  });
});
