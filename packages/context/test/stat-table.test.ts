import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, tempDir, writeTree } from '@strata/testing';
import { isStrataError } from '@strata/errors';
import { listContext, loadIgnore, startLstatHelper, STAT_FIELDS, statContext, typeOfMode, type ContextTable } from '../src/index';
import { fsBinding, lstatInto, readDirTyped } from '../src/raw-fs';
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

describe('raw fs', () => {
  it('node fs binding answers as lstatSync and readdirSync do (files, directories, links, fifos)', () => {
    const dir = writeTree(tempDir(), { 'a.txt': 'abc', 'sub/b': 'b', link: { symlink: 'a.txt' }, dangling: { symlink: 'nowhere' }, 'ünï cødé': 'u' });
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    const b = fsBinding(dir);
    // node 20 to 24: the binding passes the probe; a node where it does not falls back, and this test says so
    expect(b).not.toBeNull();
    const viaBinding = readDirTyped(b, dir);
    const viaPublic = readDirTyped(null, dir);
    expect(viaBinding.names.slice().sort()).toEqual(viaPublic.names.slice().sort());
    for (const name of viaPublic.names) {
      expect(viaBinding.types[viaBinding.names.indexOf(name)]).toBe(viaPublic.types[viaPublic.names.indexOf(name)]);
      const x = new Float64Array(6);
      const y = new Float64Array(6);
      expect(lstatInto(b, join(dir, name), x, 0)).toBe(true);
      expect(lstatInto(null, join(dir, name), y, 0)).toBe(true);
      expect([...x]).toEqual([...y]);
    }
    const out = new Float64Array(6);
    expect(lstatInto(b, join(dir, 'missing'), out, 0)).toBe(false);
    expect(lstatInto(null, join(dir, 'missing'), out, 0)).toBe(false);
  });
});

describe('statContext', () => {
  it('equals the plain walk, on one thread and shared with a helper thread', async () => {
    const dir = writeTree(tempDir(), {
      ...manyFiles(3000),
      '.dockerignore': 'src/d3\n**/*.log\n!src/d4/keep.log\n',
      'src/d4/keep.log': 'k', 'src/d5/drop.log': 'd', top: { symlink: 'src/d1' },
    });
    const matcher = loadIgnore(dir);
    const want = expected(dir, matcher);
    expect(want.length).toBeGreaterThan(2048); // the size from which a helper takes part
    expect(rows(statContext(dir, { matcher }))).toEqual(want);
    const helper = startLstatHelper();
    expect(helper).toBeDefined();
    // booted before the job is posted, so it takes its share of the chunks
    await new Promise((r) => helper!.worker.once('online', r));
    await new Promise((r) => setTimeout(r, 50));
    try {
      expect(rows(statContext(dir, { matcher }, { helper }))).toEqual(want);
    } finally {
      helper!.close();
    }
  });

  it("takes the CLI launcher's spare thread (which runs the first source it is sent) as its helper", async () => {
    const dir = writeTree(tempDir(), manyFiles(2500));
    const want = expected(dir);
    const key = Symbol.for('strata.spare-thread');
    // the launcher's contract (tools/cli-launcher.cjs)
    const spare = new Worker("require('node:worker_threads').parentPort.once('message', (m) => { eval(m.source); });", { eval: true });
    await new Promise((r) => spare.once('online', r));
    (globalThis as Record<symbol, unknown>)[key] = spare;
    const helper = startLstatHelper();
    try {
      expect(helper!.worker).toBe(spare);
      expect((globalThis as Record<symbol, unknown>)[key]).toBeUndefined(); // taken once
      await new Promise((r) => setTimeout(r, 50)); // it has evaluated the helper's source
      expect(rows(statContext(dir, {}, { helper }))).toEqual(want);
    } finally {
      helper!.close();
    }
    const own = startLstatHelper();
    expect(own!.worker).not.toBe(spare);
    own!.close();
  });

  it('a helper that claims a chunk and never finishes it: this thread does it after a second', async () => {
    const dir = writeTree(tempDir(), manyFiles(2500));
    const want = expected(dir);
    // the job protocol of HELPER_SOURCE, stopped after the first claim (which it reports)
    const source =
      "const { parentPort } = require('node:worker_threads'); parentPort.once('message', (job) => { const c = new Int32Array(job.ctrl); parentPort.postMessage({ start: Atomics.add(c, 0, job.chunk), n: job.n }); });";
    // Its claim races this thread's: on a loaded machine it can come after the last chunk was
    // taken, and then there is nothing to wait for. Such a run proves nothing: it is tried again.
    for (let attempt = 1; ; attempt++) {
      const stuck = new Worker(source, { eval: true });
      await new Promise((r) => stuck.once('online', r));
      const claimed = new Promise<{ start: number; n: number }>((r) => stuck.once('message', r));
      try {
        const t0 = Date.now();
        const got = rows(statContext(dir, {}, { helper: { worker: stuck, close: () => void stuck.terminate() } }));
        const elapsed = Date.now() - t0;
        const { start, n } = await claimed;
        if (start >= n && attempt < 5) continue;
        expect(start, 'the helper claimed a chunk').toBeLessThan(n);
        expect(got).toEqual(want);
        expect(elapsed).toBeGreaterThanOrEqual(900);
        return;
      } finally {
        await stuck.terminate();
      }
    }
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
