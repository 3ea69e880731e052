import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { busyboxRootfsTar, cleanupTempDirs, peerAvailable, runStrata, tempDir, writeTree } from '@strata/testing';
import { openStore, type Store } from '@strata/image-store';
import { unionView, type UnionView } from '@strata/unionfs';
import { build, type BuildOptions } from '../src';

// Features Docker 20.10's built-in BuildKit frontend does not have (so no docker goldens):
// expectations follow the Dockerfile reference.

let root: string;
let store: Store;
afterAll(() => cleanupTempDirs());
beforeAll(async () => {
  root = join(tempDir(), 'root');
  const r = await runStrata(['image', 'import', busyboxRootfsTar(), 'strata-test/busybox:latest'], { root });
  expect(r.code, r.stderr).toBe(0);
  store = await openStore(root);
});

async function buildIn(dockerfile: string, files: Record<string, string> = {}, extra: Partial<BuildOptions> = {}) {
  const ctx = writeTree(tempDir(), { Dockerfile: dockerfile, 'a.txt': 'alpha\n', 'dir/one': '1\n', 'dir/sub/two': '22\n', 'dir/skip.log': 'x', ...files });
  const r = await build({ store, contextDir: ctx, ...extra });
  const img = (await store.image(r.id)).image;
  const sources = [];
  for (const l of await img.layers()) sources.push({ path: store.blobs.path(await l.digest()) });
  return { r, view: await unionView(sources), config: await img.config(), ctx };
}

async function text(view: UnionView, path: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await view.read(path)) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

describe('COPY flags beyond Docker 20.10', () => {
  it('--parents keeps the source paths; --exclude drops matches', async () => {
    const { view } = await buildIn('FROM scratch\nCOPY --parents dir/sub/two a.txt /p/\nCOPY --exclude=*.log --exclude=sub dir /e\n');
    expect(view.stat('p/dir/sub/two')?.type).toBe('file');
    expect(view.stat('p/a.txt')?.type).toBe('file');
    expect(view.stat('e/one')?.type).toBe('file');
    expect(view.stat('e/skip.log')).toBeUndefined();
    expect(view.stat('e/sub')).toBeUndefined();
  });

  it('--chmod symbolic (u=rwX,go=rX) and octal', async () => {
    const { view } = await buildIn('FROM scratch\nCOPY --chmod=u=rwX,go=rX dir /s\nCOPY --chmod=0700 a.txt /o\n');
    expect(view.stat('s/one')!.mode & 0o7777).toBe(0o644);
    expect(view.stat('s/sub')!.mode & 0o7777).toBe(0o755);
    expect(view.stat('o')!.mode & 0o7777).toBe(0o700);
  });

  it('--link: the layer does not depend on the base (same layer on two different parents)', async () => {
    const a = await buildIn('FROM scratch\nCOPY a.txt /x\nCOPY --link dir /l\n');
    const b = await buildIn('FROM strata-test/busybox:latest\nCOPY --link dir /l\n');
    expect(a.config.rootfs.diff_ids.at(-1)).toBe(b.config.rootfs.diff_ids.at(-1));
    expect(b.view.stat('l/sub/two')?.type).toBe('file');
  });

  it('COPY <<EOF heredoc files, expanded unless quoted', async () => {
    const { view } = await buildIn('FROM scratch\nARG NAME=world\nCOPY <<EOF /hello\nhello $NAME\nEOF\nCOPY <<"EOF" /raw\nraw $NAME\nEOF\n');
    expect(await text(view, 'hello')).toBe('hello world\n');
    expect(await text(view, 'raw')).toBe('raw $NAME\n');
  });

  it('ADD <url> with --checksum; a wrong checksum fails; cached, it needs no download', async () => {
    const body = 'downloaded\n';
    let requests = 0;
    const server: Server = createServer((_req, res) => {
      requests++;
      res.setHeader('Last-Modified', 'Tue, 14 Nov 2023 22:13:20 GMT');
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const sum = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      const dockerfile = `FROM scratch\nADD --checksum=${sum} http://127.0.0.1:${port}/file.txt /dl/\n`;
      const { view, r } = await buildIn(dockerfile);
      expect(await text(view, 'dl/file.txt')).toBe(body);
      expect(view.stat('dl/file.txt')!.mode & 0o7777).toBe(0o600);
      expect(view.stat('dl/file.txt')!.mtime).toBe(1_700_000_000); // Last-Modified
      expect(requests).toBe(1);
      const again = await buildIn(dockerfile);
      expect(again.r.steps[1].cached).toBe(true);
      expect(again.r.id).toBe(r.id);
      expect(requests).toBe(1);
      // without a checksum the digest is known only after a download: every build fetches
      await buildIn(`FROM scratch\nADD http://127.0.0.1:${port}/file.txt /dl/\n`);
      expect(requests).toBe(2);
      await expect(buildIn(`FROM scratch\nADD --checksum=sha256:${'0'.repeat(64)} http://127.0.0.1:${port}/file.txt /dl/\n`)).rejects.toThrow(/digest mismatch/);
    } finally {
      server.close();
    }
  });

  it('ONBUILD triggers run when an image from the store is used as a base', async () => {
    const parent = await buildIn('FROM scratch\nONBUILD COPY a.txt /triggered\n', {}, { tags: ['strata-onbuild-parent:1'] });
    expect(parent.config.config?.OnBuild).toEqual(['COPY a.txt /triggered']);
    const child = await buildIn('FROM strata-onbuild-parent:1\nCOPY dir/one /one\n');
    expect(child.view.stat('triggered')?.type).toBe('file');
    expect(child.config.config?.OnBuild ?? null).toBeNull();
  });
});

describe.skipIf(!peerAvailable('runc') && !peerAvailable('crun'))('RUN beyond Docker 20.10', () => {
  it('RUN <<EOF script and #! file heredocs', async () => {
    const { view } = await buildIn('FROM strata-test/busybox:latest\nRUN <<EOF\necho one > /h1\necho two >> /h1\nEOF\nRUN <<EOF\n#!/bin/sh\necho "$0" > /h2\nEOF\n');
    expect(await text(view, 'h1')).toBe('one\ntwo\n');
    expect((await text(view, 'h2')).trim()).toMatch(/^\/dev\/pipes\//);
  });

  it('secrets: available to the step, never in a layer or in history', async () => {
    const secretFile = join(writeTree(tempDir(), { s: 'TOPSECRET' }), 's');
    const { view, config } = await buildIn(
      'FROM strata-test/busybox:latest\nRUN --mount=type=secret,id=tok cat /run/secrets/tok | wc -c > /len\nRUN --mount=type=secret,id=tok,env=TOK sh -c \'test "${#TOK}" = 9 && echo ok > /envok\'\n',
      {},
      { secrets: { tok: { src: secretFile } } },
    );
    expect((await text(view, 'len')).trim()).toBe('9');
    expect((await text(view, 'envok')).trim()).toBe('ok');
    expect(view.stat('run/secrets/tok')).toBeUndefined();
    expect(JSON.stringify(config)).not.toContain('TOPSECRET');
    for (const e of view.entries()) if (e.type === 'file' && e.size < 1000) expect(await text(view, e.path)).not.toContain('TOPSECRET');
  });

  it('--network=none leaves only loopback; proxy build args reach RUN but not history', async () => {
    const { view, config } = await buildIn('FROM strata-test/busybox:latest\nRUN --network=none cat /proc/net/dev | tail -n +3 | wc -l > /ifs\nRUN echo "$HTTP_PROXY" > /proxy\n', {}, { buildArgs: { HTTP_PROXY: 'http://proxy.invalid:3128' } });
    expect((await text(view, 'ifs')).trim()).toBe('1');
    expect((await text(view, 'proxy')).trim()).toBe('http://proxy.invalid:3128');
    expect(JSON.stringify(config.history)).not.toContain('proxy.invalid');
  });

  it('a failing RUN names the line, the command and the exit code, and shows its output', async () => {
    const ctx = writeTree(tempDir(), { Dockerfile: 'FROM strata-test/busybox:latest\nRUN echo about to fail && exit 3\n' });
    const r = await runStrata(['build', '--progress', 'plain', '-t', 'strata-fail:1', ctx], { root });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('about to fail');
    expect(r.stderr).toMatch(/strata: Dockerfile:2: process "\/bin\/sh -c echo about to fail && exit 3" did not complete successfully: exit code: 3/);
    const ls = await runStrata(['image', 'ls', 'strata-fail'], { root });
    expect(ls.out).not.toContain('strata-fail');
  });

  it('cache mounts persist across builds and are not part of the key', async () => {
    const df = 'FROM strata-test/busybox:latest\nARG N\nRUN --mount=type=cache,target=/c,id=feat echo $N >> /c/log && cat /c/log > /seen\n';
    await buildIn(df, {}, { buildArgs: { N: '1' } });
    const second = await buildIn(df, {}, { buildArgs: { N: '2' } });
    expect((await text(second.view, 'seen')).split('\n').filter(Boolean)).toEqual(['1', '2']);
  });
});
