import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cleanupTempDirs, runStrata, tempDir, writeTree } from '@strata/testing';

afterAll(() => cleanupTempDirs());

let root: string;
beforeAll(() => {
  root = join(tempDir(), 'root');
});

function ctxWith(dockerfile: string, files: Record<string, string> = {}): string {
  return writeTree(tempDir(), { Dockerfile: dockerfile, ...files });
}

async function expectOneLineError(dockerfile: string, pattern: RegExp, args: string[] = []) {
  const ctx = ctxWith(dockerfile, { 'a.txt': 'a' });
  const errRoot = join(tempDir(), 'root');
  const r = await runStrata(['build', '--progress', 'plain', '-t', 'strata-err:1', ...args, ctx], { root: errRoot });
  expect(r.code).toBe(2);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('strata: '));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  const ls = await runStrata(['image', 'ls', '-a', '-q'], { root: errRoot });
  expect(ls.out.trim()).toBe('');
}

describe('strata build (CLI)', () => {
  it('builds, tags, writes --iidfile, -q prints the ID only, cached rebuild keeps the ID', async () => {
    const ctx = ctxWith('FROM scratch\nCOPY a.txt /\nCMD ["/a.txt"]\n', { 'a.txt': 'hello' });
    const iid = join(tempDir(), 'iid');
    const r = await runStrata(['build', '-t', 'strata-ok:1', '-t', 'strata-ok:2', '--iidfile', iid, '--progress', 'plain', ctx], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/#2 \[2\/3\] COPY a.txt \//);
    const id = readFileSync(iid, 'utf8');
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const q = await runStrata(['-q', 'build', '-t', 'strata-ok:1', ctx], { root });
    expect(q.code).toBe(0);
    expect(q.out.trim()).toBe(id);
    expect(q.stderr).toBe('');
    const plain = await runStrata(['build', '--progress', 'plain', ctx], { root });
    expect(plain.stderr).toMatch(/#2 CACHED/);
    const json = await runStrata(['build', '--progress', 'json', ctx], { root });
    const events = json.stderr.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.some((e) => e.type === 'step' && e.status === 'cached')).toBe(true);
    const ls = await runStrata(['image', 'ls', '--format', 'json'], { root });
    expect(ls.out).toContain('strata-ok');
    await runStrata(['image', 'rm', 'strata-ok:1', 'strata-ok:2'], { root });
  });

  it('-f - reads the Dockerfile from stdin; --target picks a stage; --build-arg and --label', async () => {
    const ctx = ctxWith('', { 'a.txt': 'a' });
    const df = 'FROM scratch AS one\nARG X=1\nLABEL x=$X\nFROM one AS two\nCOPY a.txt /\n';
    const r = await runStrata(['-q', 'build', '-f', '-', '--target', 'one', '--build-arg', 'X=7', '--label', 'l=v', ctx], { root, input: df });
    expect(r.code, r.stderr).toBe(0);
    const inspect = await runStrata(['image', 'inspect', r.out.trim()], { root });
    const cfg = JSON.parse(inspect.out)[0];
    expect(cfg.Config.Labels).toEqual({ x: '7', l: 'v' });
    expect(cfg.RootFS.Layers ?? []).toHaveLength(0);
  });

  it('a broken Dockerfile: one line naming the line, exit 2, nothing tagged', async () => {
    await expectOneLineError('FROM scratch\nCOPY\n', /^strata: Dockerfile:2: /);
  });
  it('a large context through the launcher: cached rebuild, then an added file is seen', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 2600; i++) files[`src/d${i % 11}/f${i}.txt`] = `${i}\n`;
    const ctx = ctxWith('FROM scratch\nCOPY . /app\n', files);
    const bigRoot = join(tempDir(), 'root');
    const build = async () => {
      const r = await runStrata(['-q', 'build', '-t', 'strata-big:1', ctx], { root: bigRoot });
      expect(r.code, r.stderr).toBe(0);
      return r.out.trim();
    };
    const first = await build();
    expect(await build()).toBe(first);
    writeFileSync(join(ctx, 'src/d4/added.txt'), 'new\n');
    const third = await build();
    expect(third).not.toBe(first);
    const files3 = await runStrata(['image', 'files', 'strata-big:1', '/app/src/d4'], { root: bigRoot });
    expect(files3.out).toMatch(/added\.txt/);
  });

  it('a missing COPY source', async () => {
    await expectOneLineError('FROM scratch\nCOPY nope.txt /\n', /^strata: Dockerfile:2: .*nope\.txt.* not found/);
  });
  it('an unknown --target stage', async () => {
    await expectOneLineError('FROM scratch AS a\n', /target stage "b" could not be found/, ['--target', 'b']);
  });
  it('a cycle of --from', async () => {
    await expectOneLineError('FROM scratch AS a\nCOPY --from=b /x /x\nFROM scratch AS b\nCOPY --from=a /y /y\n', /^strata: Dockerfile:\d+: circular dependency detected on stage: [ab]$/);
  });
  it('a missing base image', async () => {
    await expectOneLineError('FROM strata-nonexistent/base:1\n', /^strata: Dockerfile:1: base image "strata-nonexistent\/base:1" is not in the local store/);
  });
  it('build du lists records and build prune removes them', async () => {
    const du = await runStrata(['build', 'du', '--format', 'json'], { root });
    expect(du.code).toBe(0);
    expect(du.out.trim().split('\n').length).toBeGreaterThan(0);
    expect(readdirSync(join(root, 'context-cache')).length).toBeGreaterThan(0);
    const aliases = readdirSync(join(root, 'cache', 'aliases'));
    expect(aliases.length).toBeGreaterThan(0);
    // one more, made two hours ago (an alias records when it was made)
    const old = join(root, 'cache', 'aliases', `${'0'.repeat(64)}.json`);
    const made = JSON.parse(readFileSync(join(root, 'cache', 'aliases', aliases[0]), 'utf8'));
    writeFileSync(old, JSON.stringify({ ...made, at: made.at - 7200_000 }));
    const kept = await runStrata(['build', 'prune', '--keep-duration', '1h'], { root });
    expect(kept.code, kept.stderr).toBe(0);
    // an alias (a COPY's stat fingerprint → its key) made within the hour stays, an older one goes
    expect(readdirSync(join(root, 'cache', 'aliases')).sort()).toEqual(aliases.sort());
    expect(readdirSync(join(root, 'context-cache')).length).toBeGreaterThan(0);
    const pr = await runStrata(['build', 'prune'], { root });
    expect(pr.code, pr.stderr).toBe(0);
    expect(pr.out).toMatch(/Total reclaimed space/);
    const du2 = await runStrata(['build', 'du', '--format', 'json'], { root });
    expect(du2.out.trim()).toBe('');
    expect(existsSync(join(root, 'cache', 'roots'))).toBe(true);
    expect(existsSync(join(root, 'cache', 'aliases'))).toBe(false);
    expect(existsSync(join(root, 'context-cache'))).toBe(false);
    // and a build after it works from nothing
    const ctx = ctxWith('FROM scratch\nCOPY a.txt /\n', { 'a.txt': 'again' });
    const again = await runStrata(['build', '-q', ctx], { root });
    expect(again.code, again.stderr).toBe(0);
  });
});
