import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, isRoot, requireOrSkip, runStrata, STRATA_BIN, tempDir, writeTree } from '@strata/testing';

afterAll(cleanupTempDirs);

function tree() {
  return writeTree(tempDir('strata-ctx-cli-'), {
    '.dockerignore': '# build output\nbuild\n!build/keep\n*.md\n!README.md\n**/*.log\n',
    'README.md': 'r', 'NOTES.md': 'n', 'a.b': 'ab', 'a/b': 'b', 'build/out': 'o', 'build/keep': 'k', 'src/x.log': 'l', 'src/x.ts': 'hello',
    'link': { symlink: 'src' }, 'docker/Dockerfile': 'FROM scratch\n', 'docker/Dockerfile.dockerignore': 'src\n',
  });
}

describe('strata context ls', () => {
  it('prints every included path, sorted, directories with a trailing /', async () => {
    const dir = tree();
    const r = await runStrata(['context', 'ls', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(['.dockerignore', 'README.md', 'a.b', 'a/', 'a/b', 'build/', 'build/keep', 'docker/', 'docker/Dockerfile', 'docker/Dockerfile.dockerignore', 'link', 'src/', 'src/x.ts', ''].join('\n'));
    const sorted = r.out.trim().split('\n');
    expect([...sorted].sort()).toEqual(sorted);
  });

  it('uses <Dockerfile>.dockerignore with -f, or --ignore-file', async () => {
    const dir = tree();
    const r = await runStrata(['context', 'ls', '-f', join(dir, 'docker/Dockerfile'), dir]);
    expect(r.out.split('\n')).toContain('NOTES.md');
    expect(r.out.split('\n')).not.toContain('src/');
    writeFileSync(join(dir, 'other.ignore'), '*\n!a\n');
    const o = await runStrata(['context', 'ls', '--ignore-file', join(dir, 'other.ignore'), dir]);
    expect(o.out).toBe('a/\na/b\n');
    const missing = await runStrata(['context', 'ls', '--ignore-file', join(dir, 'nope'), dir]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^strata: ignore file .*nope does not exist\n$/);
  });

  it('--format json gives one record per entry; --summary counts', async () => {
    const dir = tree();
    const j = await runStrata(['--format', 'json', 'context', 'ls', dir]);
    const recs = j.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(recs.find((x) => x.path === 'src/x.ts')).toMatchObject({ type: 'file', size: 5, mode: '0644' });
    expect(recs.find((x) => x.path === 'link')).toMatchObject({ type: 'symlink', linkname: 'src' });
    const s = await runStrata(['--format', 'json', 'context', 'ls', '--summary', dir]);
    expect(JSON.parse(s.out)).toMatchObject({ entries: 13, files: 8, dirs: 4, symlinks: 1, bytes: 58 + 1 + 2 + 1 + 1 + 13 + 4 + 5 });
    const t = await runStrata(['context', 'ls', '--summary', dir]);
    expect(t.out).toMatch(/^13 entries: 8 files, 4 directories, 1 symlinks, 0 other; 85 bytes/);
  });

  it('a bad pattern is a one-line error with its line number', async () => {
    for (const [text, line, why] of [['ok\n# c\n[\n', 3, 'syntax error in pattern'], ['!\n', 1, 'illegal exclusion pattern'], ['a\\\n', 1, 'syntax error']] as const) {
      const dir = writeTree(tempDir(), { '.dockerignore': text, f: 'x' });
      const r = await runStrata(['context', 'ls', dir]);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`.dockerignore:${line}: bad pattern`);
      expect(r.stderr).toContain(why);
    }
  });

  // needs root to switch users (as root, chmod alone does not make a file unreadable)
  it.skipIf(!requireOrSkip(isRoot(), 'the unreadable-context test needs root to run strata as another user'))('an unreadable file or directory is a one-line error (run as an unprivileged user)', () => {
    const dir = writeTree(tempDir(), { 'ok': 'x', 'secret': 'y', 'closed/f': 'z' });
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'secret'), 0o000);
    // The CLI is copied where the unprivileged user can read it (a checkout may be private to root).
    const bin = tempDir();
    chmodSync(bin, 0o755);
    for (const f of ['strata.cjs', 'strata-bundle.cjs']) copyFileSync(join(dirname(STRATA_BIN), f), join(bin, f));
    const run = () => spawnSync(process.execPath, [join(bin, 'strata.cjs'), 'context', 'ls', dir], { uid: 65534, gid: 65534, encoding: 'utf8', env: { ...process.env, HOME: '/tmp' } });
    let r = run();
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^strata: cannot read context file secret: EACCES[^\n]*\n$/);
    chmodSync(join(dir, 'secret'), 0o644);
    chmodSync(join(dir, 'closed'), 0o000);
    r = run();
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^strata: cannot read context directory closed: EACCES[^\n]*\n$/);
    chmodSync(join(dir, 'closed'), 0o755);
    expect(run().status).toBe(0);
  });

  it('replays docker build goldens through the CLI', async () => {
    const fixtures = new URL('../../../../test-fixtures/dockerignore/', import.meta.url);
    const { scenarios } = JSON.parse(readFileSync(new URL('scenarios.json', fixtures), 'utf8'));
    const { results } = JSON.parse(readFileSync(new URL('scenarios.expected.json', fixtures), 'utf8'));
    // @ts-expect-error a plain .mjs tool without types
    const { layout } = await import('../../../../tools/goldens/dockerignore-layout.mjs');
    for (const name of ['exception-then-reexclude', 'star-and-doublestar-exception-pruned', 'dockerfile-specific-ignore-wins', 'char-class-negated', 'utf8-bom']) {
      const sc = scenarios.find((s: { name: string }) => s.name === name);
      const { context, dockerfile } = layout(tempDir(), sc);
      const r = await runStrata(['context', 'ls', '-f', dockerfile, context]);
      // Where current Docker differs from the 20.10 golden, the scenario says how (docs/DOCKER-VERSIONS.md).
      let expected: string[] = results[name].files;
      if (sc.current) {
        const from: string[] = results[sc.current.from ?? name].files;
        expected = [...from.filter((f: string) => !sc.current.remove.includes(f)), ...sc.current.add].sort();
      }
      expect(r.out.split('\n').filter(Boolean), name).toEqual(expected);
    }
  });
});

describe('strata context check', () => {
  it('says included or excluded and which pattern (file:line) decided; exit 1 when any is excluded', async () => {
    const dir = tree();
    const r = await runStrata(['--format', 'json', 'context', 'check', '-C', dir, 'README.md', 'NOTES.md', 'build/keep', 'build/out', 'src/x.ts', 'src/deep/y.log']);
    expect(r.code).toBe(1);
    const recs = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(recs.map((x) => [x.path, x.result, x.pattern, x.source?.replace(/.*\//, '')])).toEqual([
      ['README.md', 'included', '!README.md', '.dockerignore:5'],
      ['NOTES.md', 'excluded', '*.md', '.dockerignore:4'],
      ['build/keep', 'included', '!build/keep', '.dockerignore:3'],
      ['build/out', 'excluded', 'build', '.dockerignore:2'],
      ['src/x.ts', 'included', null, undefined],
      ['src/deep/y.log', 'excluded', '**/*.log', '.dockerignore:6'],
    ]);
    const entered = JSON.parse((await runStrata(['--format', 'json', 'context', 'check', '-C', dir, 'build'])).out);
    expect(entered).toMatchObject({ result: 'included', pattern: 'build', reason: 'excluded directory, sent because exception patterns name paths under it' });
    const ok = await runStrata(['context', 'check', '-C', dir, 'src/x.ts']);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^PATH\s+RESULT\s+PATTERN\s+WHERE\s+WHY\nsrc\/x\.ts\s+included/);
    const q = await runStrata(['-q', 'context', 'check', '-C', dir, 'NOTES.md']);
    expect(q.out).toBe('excluded\n');
  });

  it('names the pruned directory for a path under an excluded directory', async () => {
    const dir = writeTree(tempDir(), { '.dockerignore': '*\n!**/*.py\n', 'a.py': '' });
    mkdirSync(join(dir, 'src'));
    const r = await runStrata(['--format', 'json', 'context', 'check', '-C', dir, 'src/b.py', 'a.py']);
    const [pruned, root] = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(pruned).toMatchObject({ result: 'excluded', pattern: '*', reason: 'directory src is excluded and not entered' });
    expect(root).toMatchObject({ result: 'included', pattern: '!**/*.py' });
  });
});

describe('strata context digest', () => {
  it('prints the context digest; a second run reads no file; --path digests a subtree; --legacy on ls', async () => {
    const dir = writeTree(tempDir(), { '.dockerignore': '**/foo\n!x/y/foo/keep\n', 'x/y/foo/keep': 'k', 'x/y/foo/z': 'z', 'src/a': 'a' });
    const old = new Date('2024-01-01T00:00:00Z'); // past the racy window on any clock
    for (const p of ['.dockerignore', 'x/y/foo/keep', 'x/y/foo/z', 'src/a']) utimesSync(join(dir, p), old, old);
    const root = tempDir();
    const first = JSON.parse((await runStrata(['--format', 'json', 'context', 'digest', dir], { root })).out);
    expect(first).toMatchObject({ path: '.', filesRead: 3, entries: 7 });
    expect(first.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const second = JSON.parse((await runStrata(['--format', 'json', 'context', 'digest', dir], { root })).out);
    expect(second).toMatchObject({ digest: first.digest, filesRead: 0 });
    const sub = (await runStrata(['--format', 'json', 'context', 'digest', '--path', 'src', '--no-cache', dir], { root })).out.trim().split('\n').map((l) => JSON.parse(l));
    expect(sub).toHaveLength(1);
    expect(sub[0]).toMatchObject({ path: 'src', filesRead: 3 });
    expect(sub[0].digest).not.toBe(first.digest);
    const q = await runStrata(['-q', 'context', 'digest', dir], { root });
    expect(q.out).toBe(`${first.digest}\n`);
    // Docker 20.10's parent matching sends x/y/foo/z; current Docker does not
    expect((await runStrata(['context', 'ls', dir])).out).not.toContain('x/y/foo/z');
    expect((await runStrata(['context', 'ls', '--legacy', dir])).out).toContain('x/y/foo/z');
  });
});
