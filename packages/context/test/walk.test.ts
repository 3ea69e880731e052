import { chmodSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, tempDir, writeTree } from '@strata/testing';
import { isStrataError } from '@strata/errors';
import { contentDigests, digestContext, listContext, listContextNames, loadIgnore, visitContext, compileExcludes } from '../src/index';

afterAll(cleanupTempDirs);

// Safely older than the racy window whatever the clock says (a date relative to the process clock
// is not, where it runs ahead of the one that stamps files).
const OLD = new Date('2024-01-01T00:00:00Z');
function age(dir: string, paths: string[]) {
  for (const p of paths) utimesSync(join(dir, p), OLD, OLD);
}

describe('listContext', () => {
  it('lists included entries in walk order, prunes excluded directories, keeps entered ones', () => {
    const dir = writeTree(tempDir(), {
      '.dockerignore': 'node_modules\n*.md\n!README.md\nbuild\n!build/keep\n**/*.log\n',
      'README.md': 'r', 'CHANGES.md': 'c', 'b.txt': 'b', 'a.b': 'x', 'a/b': 'y', 'docs/x.md': 'd',
      'node_modules/m/index.js': 'm', 'build/out': 'o', 'build/keep': 'k', 'src/app.log': 'l', 'src/app.ts': 't',
      'link': { symlink: 'src' },
    });
    const matcher = loadIgnore(dir);
    expect(matcher.file).toBe(join(dir, '.dockerignore'));
    const names = listContextNames(dir, { matcher }).map((e) => e.path);
    expect(names).toEqual(['.dockerignore', 'README.md', 'a.b', 'a', 'a/b', 'b.txt', 'build', 'build/keep', 'docs', 'docs/x.md', 'link', 'src', 'src/app.ts']);
    const seen: string[] = [];
    visitContext(dir, { matcher }, (e) => seen.push(e.path));
    const entries = listContext(dir, { matcher });
    expect(entries.map((e) => e.path)).toEqual(names);
    expect(seen).toEqual(names);
    const link = entries.find((e) => e.path === 'link')!;
    expect(link).toMatchObject({ type: 'symlink', linkname: 'src', size: 0 });
    expect(entries.find((e) => e.path === 'a/b')).toMatchObject({ type: 'file', size: 1, mode: 0o644 });
    expect(entries.find((e) => e.path === 'a')).toMatchObject({ type: 'dir' });
    expect(typeof entries[0].ino).toBe('number');
  });

  it('prefers <Dockerfile>.dockerignore beside the Dockerfile', () => {
    const dir = writeTree(tempDir(), { '.dockerignore': '*\n', 'a': 'a', 'b': 'b', 'sub/Dockerfile': 'FROM scratch', 'sub/Dockerfile.dockerignore': 'a\n' });
    const m = loadIgnore(dir, join(dir, 'sub/Dockerfile'));
    expect(m.file).toBe(join(dir, 'sub/Dockerfile.dockerignore'));
    expect(listContext(dir, { matcher: m }).map((e) => e.path)).toEqual(['.dockerignore', 'b', 'sub', 'sub/Dockerfile', 'sub/Dockerfile.dockerignore']);
    expect(loadIgnore(dir, join(dir, 'sub/Other')).file).toBe(join(dir, '.dockerignore'));
    expect(loadIgnore(tempDir()).patterns).toEqual([]);
  });

  it('reports a bad pattern with its line, and a missing context', () => {
    const dir = writeTree(tempDir(), { '.dockerignore': 'ok\n\n[\n' });
    expect(() => loadIgnore(dir)).toThrow(/\.dockerignore:3: bad pattern "\[": syntax error in pattern/);
    expect(() => listContext(join(dir, 'nope'))).toThrow(/context .*nope/);
  });

  it('compileExcludes gives COPY --exclude the same matcher', () => {
    const m = compileExcludes(['**/*.test.ts', '!keep.test.ts']);
    expect(m.matches('a/b.test.ts')).toBe(true);
    expect(m.matches('keep.test.ts')).toBe(false);
  });
});

describe('content digests', () => {
  it('depend on bytes and metadata but not on mtime or location; a subtree digest moves with it', () => {
    const dir = writeTree(tempDir(), { 'x/f': 'hello', 'x/g/h': 'world', 'y/x/f': 'hello', 'y/x/g/h': 'world' });
    const d1 = digestContext(dir);
    expect(d1.digests.get('x/f')).toBe(d1.digests.get('y/x/f'));
    expect(d1.treeDigest('x')).toBe(d1.treeDigest('y/x'));
    expect(d1.treeDigest('x')).not.toBe(d1.treeDigest('y'));
    utimesSync(join(dir, 'x/f'), OLD, OLD);
    expect(digestContext(dir).digest).toBe(d1.digest);
    chmodSync(join(dir, 'x/f'), 0o755);
    const d2 = digestContext(dir);
    expect(d2.digests.get('x/f')).not.toBe(d1.digests.get('x/f'));
    writeFileSync(join(dir, 'x/f'), 'HELLO');
    chmodSync(join(dir, 'x/f'), 0o644);
    expect(digestContext(dir).digests.get('x/f')).not.toBe(d1.digests.get('x/f'));
  });

  it('a second run with nothing changed reads no file; a changed file is re-read', () => {
    const dir = writeTree(tempDir(), { 'a': 'aaa', 'b/c': 'ccc', 'b/d': 'ddd', 'l': { symlink: 'a' }, 'we"ird\tna\\me': 'w' });
    age(dir, ['a', 'b/c', 'b/d', 'we"ird\tna\\me']);
    const cacheDir = tempDir();
    const first = digestContext(dir, { cacheDir });
    expect(first.filesRead).toBe(4);
    const second = digestContext(dir, { cacheDir });
    expect(second.filesRead).toBe(0);
    expect(second.digest).toBe(first.digest);
    writeFileSync(join(dir, 'b/c'), 'CCC'); // same size; ctime moves
    age(dir, ['b/c']);
    const third = digestContext(dir, { cacheDir });
    expect(third.filesRead).toBe(1);
    expect(third.digests.get('b/c')).not.toBe(first.digests.get('b/c'));
    expect(digestContext(dir, { cacheDir }).filesRead).toBe(0);
  });

  it('re-hashes a file whose mtime is within the racy window of when it was hashed (moby/buildkit#4817)', () => {
    const dir = writeTree(tempDir(), { 'fresh': 'one', 'old': 'two' });
    age(dir, ['old']);
    const cacheDir = tempDir();
    expect(digestContext(dir, { cacheDir }).filesRead).toBe(2);
    // 'fresh' was modified just before it was hashed: a same-size rewrite with the same mtime would
    // be invisible to stat, so its cache entry is not trusted yet.
    expect(digestContext(dir, { cacheDir }).filesRead).toBe(1);
  });

  it('contentDigests works on any entry list and fails with one line on an unreadable file', () => {
    const dir = writeTree(tempDir(), { 'a': 'x' });
    const entries = listContext(dir);
    expect(contentDigests(dir, entries).filesRead).toBe(1);
    mkdirSync(join(dir, 'gone'));
    const ghost = { ...entries[0], path: 'missing' };
    let err: unknown;
    try {
      contentDigests(dir, [ghost]);
    } catch (e) {
      err = e;
    }
    expect(isStrataError(err, 'IO_ERROR')).toBe(true);
    expect((err as Error).message).toMatch(/^cannot read context file .*missing: ENOENT/);
  });
});

describe('checkPath', () => {
  it('reports the deciding pattern and Docker pruning of excluded directories', async () => {
    const { checkPath } = await import('../src/index');
    const m = compileExcludes(['*', '!**/*.py', '!keep/x']);
    expect(checkPath(m, 'a.py')).toMatchObject({ path: 'a.py', included: true, decidedBy: { text: '**/*.py', exclusion: true } });
    expect(checkPath(m, './src//lib/b.py')).toMatchObject({ path: 'src/lib/b.py', included: false, prunedAt: 'src', decidedBy: { text: '*' } });
    expect(checkPath(m, 'keep/x/y')).toMatchObject({ included: true, decidedBy: { text: 'keep/x', exclusion: true } });
    expect(checkPath(m, 'keep/z')).toMatchObject({ included: false, decidedBy: { text: '*' } });
    expect(checkPath(m, '.').included).toBe(true);
    expect(() => checkPath(m, '../etc')).toThrow(/outside the context/);
  });
});

describe('listContext under a subdirectory', () => {
  it('yields the subtree with context-relative paths and the ancestors’ ignore results', () => {
    const dir = writeTree(tempDir(), {
      '.dockerignore': 'src/gen\n*.md\n**/*.log\nlib\n!lib/keep\n', 'src/a.ts': 'a', 'src/b.log': 'b', 'src/gen/x': 'x', 'src/sub/c.ts': 'c',
      'lib/keep/k': 'k', 'lib/drop': 'd', 'README.md': 'r',
    });
    const matcher = loadIgnore(dir);
    const names = (under: string) => listContext(dir, { matcher, under }).map((e) => e.path);
    expect(names('src')).toEqual(['src', 'src/a.ts', 'src/sub', 'src/sub/c.ts']);
    expect(names('./src/sub/')).toEqual(['src/sub', 'src/sub/c.ts']);
    expect(names('src/gen')).toEqual([]);
    expect(names('src/gen/x')).toEqual([]);
    expect(names('src/a.ts')).toEqual(['src/a.ts']);
    expect(names('lib')).toEqual(['lib', 'lib/keep', 'lib/keep/k']);
    expect(names('lib/keep')).toEqual(['lib/keep', 'lib/keep/k']);
    expect(names('README.md')).toEqual([]);
    expect(names('missing/x')).toEqual([]);
    expect(() => names('../x')).toThrow(/outside the context/);
    // subtree digests equal those of the whole walk
    const all = digestContext(dir, { matcher });
    const sub = contentDigests(dir, listContext(dir, { matcher, under: 'src' }));
    expect(sub.treeDigest('src')).toBe(all.treeDigest('src'));
  });
});

describe('stat cache across partial digests', () => {
  it('keeps entries of files a partial digest did not look at; a full digest prunes deleted files', async () => {
    const { rmSync, readFileSync } = await import('node:fs');
    const { openStatCache } = await import('../src/index');
    const dir = writeTree(tempDir(), { 'a/x': '1', 'b/y': '2', 'c/z': '3' });
    age(dir, ['a/x', 'b/y', 'c/z']);
    const cacheDir = tempDir();
    expect(digestContext(dir, { cacheDir }).filesRead).toBe(3);
    expect(contentDigests(dir, listContext(dir, { under: 'a' }), { cacheDir }).filesRead).toBe(0);
    expect(contentDigests(dir, listContext(dir, { under: 'b' }), { cacheDir }).filesRead).toBe(0);
    expect(digestContext(dir, { cacheDir }).filesRead).toBe(0);
    rmSync(join(dir, 'c'), { recursive: true });
    digestContext(dir, { cacheDir });
    const file = openStatCache(cacheDir, dir).file;
    expect(readFileSync(file, 'utf8')).not.toContain('c/z');
    expect(readFileSync(file, 'utf8')).toContain('b/y');
  });
});

describe('file names that are not UTF-8', () => {
  it('fail with one line unless excluded', () => {
    const dir = tempDir();
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/a`), Buffer.from([0xff]), Buffer.from('b')]), 'x');
    expect(() => listContext(dir)).toThrow(/^context entry "a\uFFFDb" has a file name that is not valid UTF-8$/);
    expect(listContext(dir, { matcher: compileExcludes(['a?b']) })).toEqual([]);
  });
});

describe('cached entry digests', () => {
  it('are reused only for the same header; another header re-derives the digest without reading', () => {
    const dir = writeTree(tempDir(), { 'f': 'data', 'g': 'more' });
    age(dir, ['f', 'g']);
    const cacheDir = tempDir();
    const a = contentDigests(dir, listContext(dir), { cacheDir });
    expect(a.filesRead).toBe(2);
    const b = contentDigests(dir, listContext(dir), { cacheDir });
    expect(b.filesRead).toBe(0);
    expect([...b.digests]).toEqual([...a.digests]);
    const c = contentDigests(dir, listContext(dir).map((e) => ({ ...e, uid: 4321 })), { cacheDir });
    expect(c.filesRead).toBe(0);
    expect(c.digests.get('f')).not.toBe(a.digests.get('f'));
    // and the result is what hashing from scratch gives
    expect([...contentDigests(dir, listContext(dir).map((e) => ({ ...e, uid: 4321 }))).digests]).toEqual([...c.digests]);
  });
});
