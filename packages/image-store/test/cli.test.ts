import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, hashTree, runStrata, tempDir } from '@strata/testing';
import { openStore, type StoredImage } from '../src/index';
import { makeImage } from './helpers';

afterAll(cleanupTempDirs);

describe('strata image ls / tag / rm / prune (CLI)', () => {
  let root: string;
  let old: StoredImage;
  let mid: StoredImage;
  let app: StoredImage;
  beforeAll(async () => {
    root = tempDir();
    const store = await openStore(root);
    old = await store.putImage(await makeImage('old', { created: '2001-01-01T00:00:00Z' }), { tags: ['app:1'] });
    mid = await store.putImage(await makeImage('mid', { created: '2002-01-01T00:00:00Z', labels: { tier: 'base' } }), { tags: ['base:1', 'example.com/team/base:2'] });
    app = await store.putImage(await makeImage('app', { created: '2003-01-01T00:00:00Z', layers: 2 }), { tags: ['app:1', 'app:latest'] });
  });

  it('lists one row per tag, newest first, <none> for dangling, like docker', async () => {
    const r = await runStrata(['image', 'ls'], { root, env: { STRATA_NOW: '2026-12-02T00:00:00Z' } });
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    const rows = lines.slice(1).map((l) => l.split(/\s{3,}/));
    expect(rows.map((r) => [r[0], r[1], r[2]])).toEqual([
      ['app', '1', app.id.slice(7, 19)],
      ['app', 'latest', app.id.slice(7, 19)],
      ['base', '1', mid.id.slice(7, 19)],
      ['example.com/team/base', '2', mid.id.slice(7, 19)],
      ['<none>', '<none>', old.id.slice(7, 19)],
    ]);
    expect(rows.map((r) => r[3])).toEqual(['23 years ago', '23 years ago', '24 years ago', '24 years ago', '25 years ago']);
    expect(rows[0][4]).toMatch(/^\d+(\.\d+)?(B|kB)$/);
  });

  it('-q prints unique IDs; --no-trunc full IDs; --digests adds a column', async () => {
    let r = await runStrata(['image', 'ls', '-q'], { root });
    expect(r.out).toBe([app, mid, old].map((i) => `${i.id.slice(7, 19)}\n`).join(''));
    r = await runStrata(['image', 'ls', '-q', '--no-trunc'], { root });
    expect(r.out).toBe([app, mid, old].map((i) => `${i.id}\n`).join(''));
    r = await runStrata(['image', 'ls', '--digests'], { root });
    expect(r.out.split('\n')[0]).toMatch(/^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID/);
    expect(r.out).toContain(app.manifestDigest);
  });

  it('--format json gives docker fields as JSON Lines', async () => {
    const r = await runStrata(['image', 'ls', '--format', 'json'], { root });
    const recs = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(recs).toHaveLength(5);
    expect(Object.keys(recs[0]).sort()).toEqual(['Containers', 'CreatedAt', 'CreatedSince', 'Digest', 'ID', 'Repository', 'SharedSize', 'Size', 'Tag', 'UniqueSize', 'VirtualSize']);
    expect(recs[0]).toMatchObject({ Repository: 'app', Tag: '1', ID: app.id.slice(7, 19), Digest: app.manifestDigest, CreatedAt: '2003-01-01 00:00:00 +0000 UTC' });
  });

  it('--format takes Go templates and table templates, as docker does', async () => {
    let r = await runStrata(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'], { root });
    expect(r.out.split('\n')[0]).toBe(`app:1 ${app.id.slice(7, 19)}`);
    r = await runStrata(['image', 'ls', '--format', 'table {{.Repository}}\t{{.Tag}}'], { root });
    expect(r.out.split('\n').slice(0, 2)).toEqual([`${'REPOSITORY'.padEnd(24)}TAG`, `${'app'.padEnd(24)}1`]); // widest: example.com/team/base
    r = await runStrata(['image', 'ls', '--format', '{{.Nope}}'], { root });
    expect(r.code).toBe(2);
  });

  it('filters: dangling, label, before, since, reference', async () => {
    const ids = async (...f: string[]) => (await runStrata(['image', 'ls', '-q', ...f.flatMap((x) => ['--filter', x])], { root })).out.trim().split('\n').filter(Boolean);
    expect(await ids('dangling=true')).toEqual([old.id.slice(7, 19)]);
    expect(await ids('dangling=false')).toEqual([app.id.slice(7, 19), mid.id.slice(7, 19)]);
    expect(await ids('label=tier=base')).toEqual([mid.id.slice(7, 19)]);
    expect(await ids('label=tier')).toEqual([mid.id.slice(7, 19)]);
    expect(await ids('before=base:1')).toEqual([old.id.slice(7, 19)]);
    expect(await ids('since=base:1')).toEqual([app.id.slice(7, 19)]);
    expect(await ids('reference=app')).toEqual([app.id.slice(7, 19)]);
    expect(await ids('reference=*/team/*')).toEqual([mid.id.slice(7, 19)]);
    expect((await runStrata(['image', 'ls', '-q', 'base'], { root })).out).toBe(`${mid.id.slice(7, 19)}\n`);
    const r = await runStrata(['image', 'ls', '--filter', 'reference=app:l*'], { root });
    expect(r.out.trim().split('\n').slice(1).map((l) => l.split(/\s{3,}/)[1])).toEqual(['latest']);
    const bad = await runStrata(['image', 'ls', '--filter', 'color=red'], { root });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^strata: invalid filter "color"/);
  });

  it('tag, rm and prune print Docker messages; bad input changes nothing', async () => {
    const r0 = tempDir();
    const store = await openStore(r0);
    const a = await store.putImage(await makeImage('a'), { tags: ['a:1'] });
    const d = await store.putImage(await makeImage('d'));
    let r = await runStrata(['image', 'tag', 'a:1', 'b:2'], { root: r0 });
    expect([r.code, r.out, r.stderr]).toEqual([0, '', '']);
    const before = hashTree(r0);
    for (const args of [['image', 'tag', 'nosuch', 'x'], ['image', 'tag', 'a:1', 'BAD'], ['image', 'rm', 'nosuch'], ['image', 'rm', a.id.slice(7, 9)], ['image', 'prune', '--filter', 'bogus=1']]) {
      r = await runStrata(args, { root: r0 });
      expect(r.code, args.join(' ')).toBe(2);
      // One line, and a hint line where the error has one (packages/cli/src/errors.ts).
      expect(r.stderr, args.join(' ')).toMatch(/^strata: [^\n]+\n(hint: [^\n]+\n)?$/);
    }
    expect(hashTree(r0)).toEqual(before);
    r = await runStrata(['image', 'rm', 'a:1'], { root: r0 });
    expect([r.code, r.out]).toEqual([0, 'Untagged: a:1\n']);
    r = await runStrata(['image', 'rm', 'b:2'], { root: r0 });
    expect([r.code, r.out]).toEqual([0, `Untagged: b:2\nDeleted: ${a.id}\n`]);
    r = await runStrata(['image', 'prune', '--dry-run'], { root: r0 });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`^Would delete images:\ndeleted: ${d.id}\n\nTotal reclaimable space: \\d+(\\.\\d+)?k?B\n$`));
    r = await runStrata(['image', 'prune', '-f'], { root: r0 });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^Deleted Images:\ndeleted: ${d.id}\n\nTotal reclaimed space: \\d+(\\.\\d+)?k?B\n$`));
    r = await runStrata(['image', 'prune', '--dry-run'], { root: r0 });
    expect([r.code, r.out]).toEqual([0, 'Total reclaimable space: 0B\n']);
    expect(await fsp.readdir(join(r0, 'blobs', 'sha256'))).toEqual([]);
  });
});

describe('strata store check / gc / du (CLI)', () => {
  it('check is clean, then names a corrupted blob and exits 1; gc removes unreachable blobs and leftovers', async () => {
    const root = tempDir();
    const store = await openStore(root);
    const img = await store.putImage(await makeImage('c', { layers: 2 }), { tags: ['c:1'] });
    let r = await runStrata(['store', 'check'], { root });
    expect([r.code, r.out]).toEqual([0, '']);
    expect(r.stderr).toMatch(/checked 4 blobs .* ok/);
    const layer = img.manifest.layers[0].digest;
    await fsp.writeFile(store.blobs.path(layer), 'not the layer');
    r = await runStrata(['store', 'check', '--format', 'json'], { root });
    expect(r.code).toBe(1);
    const problems = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(problems[0]).toMatchObject({ object: 'blob', digest: layer });
    expect(problems.some((p) => p.object === 'layer' && p.ref === 'docker.io/library/c:1')).toBe(true);

    // gc: an orphan blob (written by a process that is gone) and a dead temp file
    await fsp.writeFile(join(root, 'blobs', 'sha256', 'a'.repeat(64)), 'orphan');
    await fsp.writeFile(join(root, 'tmp', 'blob-999999999-00ff'), 'partial');
    r = await runStrata(['store', 'gc', '--dry-run'], { root });
    expect(r.out).toBe('would remove 1 unreachable blob(s) (6B)\n');
    r = await runStrata(['store', 'gc'], { root });
    expect([r.code, r.out]).toEqual([0, 'removed 1 unreachable blob(s) (6B), 1 temp file(s) (7B)\n']);
    r = await runStrata(['store', 'du', '--format', 'json'], { root });
    const du = Object.fromEntries(r.out.trim().split('\n').map((l) => JSON.parse(l)).map((x) => [x.kind, x]));
    expect(du.layers.count).toBe(2);
    expect(du.manifests.count).toBe(1);
    expect(du.unreferenced.count).toBe(0);
  });

  it('a lock left by a kill -9 holder does not wedge the store', async () => {
    const root = tempDir();
    const store = await openStore(root);
    await store.putImage(await makeImage('l'), { tags: ['l:1'] });
    const { spawn } = await import('node:child_process');
    const child = spawn('sleep', ['60']);
    await fsp.writeFile(join(root, 'lock'), `${child.pid} cafe\n`);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const r = await runStrata(['image', 'tag', 'l:1', 'l:2'], { root, env: { STRATA_LOCK_TIMEOUT: '5' } });
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect((await store.image('l:2')).tags).toContain('docker.io/library/l:2');
  });
});
