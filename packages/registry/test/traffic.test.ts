// Traffic, counted from the registry's access log: a copy within one registry mounts and uploads
// nothing; a build FROM an image the store lacks pulls it; pushing that build uploads only its new
// layer (the base is mounted from where it was pulled); --push, --pull; and the build cache in a
// registry: --cache-to on one store, then a wiped store with --cache-from runs no RUN step and
// makes the same image.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTempDirs, countRequests, isRoot, peerAvailable, requireOrSkip, runStrata, startRegistry, tempDir, type RegistryServer } from '@strata/testing';
import { storeWithBusybox, strataOk, uploads } from './helpers';

const ready = peerAvailable('docker-registry');

describe.skipIf(!ready)('registry traffic and builds', () => {
  let reg: RegistryServer;
  let dir: string;
  const env = { TZ: 'UTC', SOURCE_DATE_EPOCH: '' };
  const mounts = async () => countRequests(await reg.settledLog(), 'POST', /\/blobs\/uploads\/\?mount=/);

  beforeAll(async () => {
    dir = tempDir('strata-traffic-');
    reg = await startRegistry('plain', join(dir, 'registry'));
    await storeWithBusybox(join(dir, 'src'), 'bb:1');
    await strataOk(['push', 'bb:1', `${reg.host}/traffic/base:1`], join(dir, 'src'), env);
  });
  afterAll(async () => {
    await reg?.stop();
    cleanupTempDirs();
  });

  it('a copy within one registry mounts every blob and uploads none', async () => {
    const up = uploads(await reg.settledLog());
    const m = await mounts();
    await strataOk(['image', 'copy', `docker://${reg.host}/traffic/base:1`, `docker://${reg.host}/traffic/copied:1`], join(dir, 'src'), env);
    expect(uploads(await reg.settledLog())).toBe(up);
    expect((await mounts()) - m).toBe(2); // the layer and the config
    const a = (await strataOk(['image', 'digest', `docker://${reg.host}/traffic/base:1`], join(dir, 'src'), env)).out;
    expect((await strataOk(['image', 'digest', `docker://${reg.host}/traffic/copied:1`], join(dir, 'src'), env)).out).toBe(a);
  });

  it('--chunk-size uploads in PATCH chunks; --compress zstd; both pull back to the same image', async () => {
    const src = join(dir, 'src');
    const before = countRequests(await reg.settledLog(), 'PATCH', /\/blobs\/uploads\//);
    await strataOk(['push', '--chunk-size', '256k', '--compress', 'zstd', 'bb:1', `${reg.host}/traffic/zstd:1`], src, env);
    // a ~2 MB zstd layer in 256 KiB chunks
    expect(countRequests(await reg.settledLog(), 'PATCH', /\/blobs\/uploads\//) - before).toBeGreaterThan(2);
    const manifest = JSON.parse((await strataOk(['image', 'inspect', '--raw', `docker://${reg.host}/traffic/zstd:1`], src, env)).out);
    expect(manifest.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual(['application/vnd.oci.image.layer.v1.tar+zstd']);
    const other = join(dir, 'zstd-puller');
    await strataOk(['pull', '-q', `${reg.host}/traffic/zstd:1`], other, env);
    const id = (await strataOk(['image', 'inspect', '-f', '{{.Id}}', 'bb:1'], src, env)).out;
    expect((await strataOk(['image', 'inspect', '-f', '{{.Id}}', `${reg.host}/traffic/zstd:1`], other, env)).out).toBe(id);
  });

  it('build FROM a registry image pulls it; --push sends only the new layer; --pull re-checks', async () => {
    const root = join(dir, 'builder');
    const ctxDir = join(dir, 'context');
    rmSync(ctxDir, { recursive: true, force: true });
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${reg.host}/traffic/base:1\nCOPY hello.txt /hello.txt\n`);
    await import('node:fs').then((fs) => fs.mkdirSync(ctxDir, { recursive: true }));
    writeFileSync(join(ctxDir, 'hello.txt'), 'hello from a layer of its own\n');
    const upBefore = countRequests(await reg.settledLog(), 'PATCH', /\/blobs\/uploads\//);
    const m = await mounts();
    await strataOk(['build', '-q', '-f', join(dir, 'Dockerfile'), '-t', `${reg.host}/traffic/app:1`, '--push', ctxDir], root, env);
    // one layer streamed (one PATCH), the base layer mounted from traffic/base where it came from
    expect(countRequests(await reg.settledLog(), 'PATCH', /\/blobs\/uploads\//) - upBefore).toBe(1);
    expect((await mounts()) - m).toBe(1);
    const pulls = countRequests(await reg.settledLog(), 'GET', /\/traffic\/base\/manifests\//);
    await strataOk(['build', '-q', '--pull', '-f', join(dir, 'Dockerfile'), '-t', 'app:2', ctxDir], root, env);
    expect(countRequests(await reg.settledLog(), 'GET', /\/traffic\/base\/manifests\//)).toBe(pulls + 1);
    const other = join(dir, 'puller');
    await strataOk(['pull', '-q', `${reg.host}/traffic/app:1`], other, env);
    expect((await strataOk(['image', 'cat', `${reg.host}/traffic/app:1`, '/hello.txt'], other, env)).out).toBe('hello from a layer of its own\n');
  });

  it.skipIf(!requireOrSkip(isRoot(), 'RUN steps need root'))('the build cache round trip: --cache-to, wiped store, --cache-from: 0 RUN steps, same image', async () => {
    const ctxDir = join(dir, 'cache-context');
    await import('node:fs').then((fs) => fs.mkdirSync(ctxDir, { recursive: true }));
    writeFileSync(join(ctxDir, 'Dockerfile'), `FROM ${reg.host}/traffic/base:1\nRUN echo built > /built.txt\nENV A=1\nRUN echo second >> /built.txt\n`);
    const cacheRef = `type=registry,ref=${reg.host}/traffic/cache:main`;
    const one = join(dir, 'cache-one');
    const a = await strataOk(['build', '--progress', 'plain', '-t', 'cached:1', '--cache-to', cacheRef, ctxDir], one, env);
    expect(a.stderr).not.toContain('CACHED');
    const idA = (await strataOk(['image', 'inspect', '-f', '{{.Id}}', 'cached:1'], one, env)).out.trim();
    const two = join(dir, 'cache-two');
    const b = await strataOk(['build', '--progress', 'plain', '-t', 'cached:1', '--cache-from', cacheRef, ctxDir], two, env);
    // every RUN step answered by the cache: none ran
    const runs = [...b.stderr.matchAll(/^#(\d+) \[\d+\/\d+\] RUN /gm)].map((m) => m[1]);
    expect(runs.length).toBe(2);
    for (const id of runs) expect(b.stderr).toMatch(new RegExp(`^#${id} CACHED$`, 'm'));
    const idB = (await strataOk(['image', 'inspect', '-f', '{{.Id}}', 'cached:1'], two, env)).out.trim();
    expect(idB).toBe(idA);
    expect((await runStrata(['store', 'check'], { root: two })).code).toBe(0);
  });
});
