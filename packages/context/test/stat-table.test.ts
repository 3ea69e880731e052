import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, tempDir, writeTree } from '@strata/testing';
import { isStrataError } from '@strata/errors';
import { listContext, loadIgnore, STAT_FIELDS, statContext, typeOfMode, type ContextTable } from '../src/index';
import type { Matcher } from '@strata/dockerignore';

afterAll(cleanupTempDirs);

/** What the plain walk (public lstat, readdir) says of each entry, in walk order. */
function expected(dir: string, matcher?: Matcher) {
  return listContext(dir, { matcher }).map((e) => ({
    path: e.path, type: e.type, mode: e.mode, size: e.type === 'file' ? e.size : undefined, mtimeMs: e.mtimeMs, ctimeMs: e.ctimeMs, ino: e.ino, dev: e.dev, linkname: e.linkname,
  }));
}

function rows(t: ContextTable) {
  return t.paths.map((path, i) => {
    const at = i * STAT_FIELDS;
    const type = typeOfMode(t.stats[at]);
    return {
      path, type, mode: t.stats[at] & 0o7777, size: type === 'file' ? t.stats[at + 1] : undefined, mtimeMs: t.stats[at + 2], ctimeMs: t.stats[at + 3], ino: t.stats[at + 4], dev: t.stats[at + 5], linkname: t.linknames.get(i),
    };
  });
}

function manyFiles(n: number): Record<string, string> {
  const spec: Record<string, string> = {};
  for (let i = 0; i < n; i++) spec[`src/d${i % 37}/f${i}.txt`] = `file ${i}\n`.repeat(1 + (i % 5));
  return spec;
}

describe('statContext', () => {
  it('equals the plain walk (paths, lstat rows, link targets), with and without .dockerignore', () => {
    const dir = writeTree(tempDir(), {
      ...manyFiles(3000),
      '.dockerignore': 'src/d3\n**/*.log\n!src/d4/keep.log\n',
      'src/d4/keep.log': 'k', 'src/d5/drop.log': 'd', top: { symlink: 'src/d1' },
    });
    const matcher = loadIgnore(dir);
    expect(rows(statContext(dir, { matcher }))).toEqual(expected(dir, matcher));
    expect(rows(statContext(dir, {}))).toEqual(expected(dir));
  });

  it('an entry that vanishes between the listing and its lstat is an error naming it', () => {
    const dir = writeTree(tempDir(), { 'a.txt': 'a' });
    // a matcher that deletes the file as the walk decides on it: the lstat after the listing fails
    const plain = loadIgnore(dir);
    const matcher: Matcher = {
      ...plain,
      patterns: [{ text: 'x', exclusion: false } as Matcher['patterns'][number]],
      key: 'vanishing',
      excludedInDir: (p) => {
        if (p === 'a.txt') unlinkSync(join(dir, 'a.txt'));
        return false;
      },
    };
    let err: unknown;
    try {
      statContext(dir, { matcher });
    } catch (e) {
      err = e;
    }
    expect(isStrataError(err)).toBe(true);
    expect((err as Error).message).toMatch(/cannot stat context entry a\.txt: ENOENT/);
  });
});

describe('walk cache', () => {
  // Directories changed within 2 s before they were listed are listed again next time (the racy
  // rule): the fixture ages once, then each step changes a few directories.
  let dir: string;
  let cacheDir: string;
  beforeAll(async () => {
    dir = writeTree(tempDir(), {
      ...manyFiles(300),
      '.dockerignore': '**/*.tmp\n',
      'a/b/c.txt': 'c', 'a/f': 'f', 'c/x': 'x', 'c/y': 'y', 'e/link': { symlink: '../a' }, 'n.tmp': 'n',
    });
    cacheDir = tempDir();
    await new Promise((r) => setTimeout(r, 2100));
  });
  const walk = () => statContext(dir, { matcher: loadIgnore(dir) }, { walkCacheFile: join(cacheDir, 'ctx.walk') });
  const check = (t: ContextTable) => expect(rows(t)).toEqual(expected(dir, loadIgnore(dir)));

  it('reads every directory once, then none while nothing changed; each change is seen', () => {
    const first = walk();
    check(first);
    expect(first.dirsRead).toBe(rows(first).filter((r) => r.type === 'dir').length + 1);
    const second = walk();
    check(second);
    expect(second.dirsRead).toBe(0);

    // a new file: only its directory is listed again
    writeFileSync(join(dir, 'a/b/new.txt'), 'new');
    const third = walk();
    check(third);
    expect(third.paths).toContain('a/b/new.txt');
    expect(third.dirsRead).toBe(1);

    // a file's bytes: no directory changes, the row does
    appendFileSync(join(dir, 'src/d1/f1.txt'), 'more');
    check(walk());

    // removed, replaced by a directory, renamed, a directory removed with its files
    unlinkSync(join(dir, 'c/x'));
    unlinkSync(join(dir, 'a/f'));
    mkdirSync(join(dir, 'a/f'));
    writeFileSync(join(dir, 'a/f/g'), 'g');
    renameSync(join(dir, 'src/d2'), join(dir, 'src/d2-renamed'));
    rmSync(join(dir, 'src/d7'), { recursive: true });
    const after = walk();
    check(after);
    expect(after.paths).not.toContain('c/x');
    expect(after.paths).toContain('a/f/g');
    expect(after.paths.some((p) => p.startsWith('src/d2/'))).toBe(false);
    expect(after.paths.some((p) => p.startsWith('src/d7'))).toBe(false);
    check(walk());
  });

  it('a directory changed within the racy window is listed again even when it looks unchanged', () => {
    walk();
    writeFileSync(join(dir, 'c/racy'), 'r'); // c's mtime is now: its new listing cannot be trusted yet
    const t1 = walk();
    check(t1);
    expect(t1.dirsRead).toBeGreaterThanOrEqual(1);
    const t2 = walk();
    check(t2);
    expect(t2.dirsRead).toBeGreaterThanOrEqual(1);
  });

  it('other .dockerignore patterns give their own paths from the same listings', () => {
    walk();
    writeFileSync(join(dir, '.dockerignore'), 'src\n!src/d1\n');
    const t = walk();
    check(t);
    expect(t.paths.some((p) => p.startsWith('src/d0'))).toBe(false);
    expect(t.paths).toContain('src/d1/f1.txt');
    writeFileSync(join(dir, '.dockerignore'), '**/*.tmp\n');
    check(walk());
  });

  it('damaged cache files are ignored', () => {
    walk();
    writeFileSync(join(cacheDir, 'ctx.walk'), 'strata-walk-cache v1\nnot\0what\0it\0seems');
    writeFileSync(join(cacheDir, 'ctx.list'), Buffer.alloc(300, 0x41));
    check(walk());
    check(walk());
    writeFileSync(join(cacheDir, 'ctx.list'), '');
    check(walk());
  });
});
