// Interop both ways: docker pulls and runs what strata pushed; strata pulls what docker push and
// skopeo copy pushed; one config.json serves docker login → strata pull and strata login → docker
// pull; fake docker-credential-* helpers are asked for credsStore and credHelpers (the helper wins).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxRootfsTar, cleanupTempDirs, docker, dockerOk, peerAvailable, runStrata, startRegistry, tempDir, type RegistryServer } from '@strata/testing';
import { envFor, fakeHelper, skopeo, storeWithBusybox, strataOk } from './helpers';

const ready = peerAvailable('docker-registry') && peerAvailable('docker') && peerAvailable('skopeo') && peerAvailable('htpasswd');

describe.skipIf(!ready)('registry interop with docker and skopeo', () => {
  let plain: RegistryServer;
  let basic: RegistryServer;
  let dir: string;
  const root = () => join(dir, 'store');
  const dockerImages: string[] = [];

  beforeAll(async () => {
    dir = tempDir('strata-interop-');
    [plain, basic] = await Promise.all([startRegistry('plain', join(dir, 'plain')), startRegistry('basic', join(dir, 'basic'))]);
    await storeWithBusybox(root(), 'bb:1');
  });
  afterAll(async () => {
    for (const i of dockerImages) await docker(['rmi', '-f', i]);
    await Promise.all([plain?.stop(), basic?.stop()]);
    cleanupTempDirs();
  });

  it('docker pulls and runs an image strata pushed', async () => {
    const env = envFor(plain, join(dir, 'cfg-plain'));
    const ref = `${plain.host}/interop/bb:1`;
    const pushed = await strataOk(['push', 'bb:1', ref], root(), env);
    dockerImages.push(ref);
    await dockerOk(['pull', '-q', ref], { env });
    const ran = await docker(['run', '--rm', '--network', 'none', ref, '/bin/busybox', 'echo', 'pushed by strata'], { env });
    expect(ran.out).toBe('pushed by strata\n');
    // the image ID Docker computes is the config digest strata kept
    const id = (await dockerOk(['image', 'inspect', '-f', '{{.Id}}', ref])).out.trim();
    expect((await strataOk(['image', 'inspect', '-f', '{{.Id}}', 'bb:1'], root(), env)).out.trim()).toBe(id);
    // the digest docker pulled is the one strata pushed, and both list it in RepoDigests
    const dockerDigests = JSON.parse((await dockerOk(['image', 'inspect', '-f', '{{json .RepoDigests}}', ref])).out);
    expect(dockerDigests).toEqual([pushed.out.trim().replace(':1@', '@')]);
    expect(JSON.parse((await strataOk(['image', 'inspect', 'bb:1'], root(), env)).out)[0].RepoDigests).toEqual(dockerDigests);
  });

  it('strata pulls what docker push and skopeo copy pushed', async () => {
    const env = envFor(plain, join(dir, 'cfg-plain'));
    const ref = `${plain.host}/interop/from-docker:1`;
    // an image of its own: a tag on the shared busybox base would show in other tests' docker inspect
    await dockerOk(['import', '--change', 'CMD ["sh"]', busyboxRootfsTar(), ref]);
    dockerImages.push(ref);
    await dockerOk(['push', ref]);
    const other = join(dir, 'store-d');
    await strataOk(['pull', '-q', ref], other, env);
    const dockerId = (await dockerOk(['image', 'inspect', '-f', '{{.Id}}', ref])).out.trim();
    expect((await strataOk(['image', 'inspect', '-f', '{{.Id}}', ref], other, env)).out.trim()).toBe(dockerId);
    // skopeo: from an OCI layout strata wrote
    await strataOk(['image', 'copy', 'bb:1', `oci-archive:${join(dir, 'bb.tar')}`], root(), env);
    await skopeo(['copy', '-q', '--dest-tls-verify=false', `oci-archive:${join(dir, 'bb.tar')}`, `docker://${plain.host}/interop/from-skopeo:1`]);
    await strataOk(['pull', '-q', `${plain.host}/interop/from-skopeo:1`], other, env);
    const check = await runStrata(['store', 'check'], { root: other });
    expect(check.code).toBe(0);
  });

  it('store → oci:DIR (layers compressed once, config kept): skopeo reads it, and it copies back to the same image', async () => {
    const env = envFor(plain, join(dir, 'cfg-plain'));
    const layout = join(dir, 'from-store');
    await strataOk(['image', 'copy', 'bb:1', `oci:${layout}:v1`], root(), env);
    const seen = JSON.parse((await skopeo(['inspect', `oci:${layout}:v1`])).out);
    const id = (await strataOk(['image', 'inspect', '-f', '{{.Id}}', 'bb:1'], root(), env)).out.trim();
    expect(seen.Layers).toHaveLength(1);
    const back = join(dir, 'store-oci');
    await strataOk(['image', 'copy', `oci:${layout}:v1`, 'back:1'], back, env);
    expect((await strataOk(['image', 'inspect', '-f', '{{.Id}}', 'back:1'], back, env)).out.trim()).toBe(id);
    // compressed deterministically: a second copy writes the same manifest
    await strataOk(['image', 'copy', 'bb:1', `oci:${join(dir, 'from-store-2')}:v1`], root(), env);
    expect(readFileSync(join(dir, 'from-store-2', 'index.json'), 'utf8')).toBe(readFileSync(join(layout, 'index.json'), 'utf8'));
  });

  it('oci-archive ↔ docker:// and oci: directly: blobs as they are, the same digest everywhere; skopeo reads the archives', async () => {
    const env = envFor(plain, join(dir, 'cfg-plain'));
    const layout = join(dir, 'arch-layout');
    await strataOk(['image', 'copy', 'bb:1', `oci:${layout}:v1`], root(), env);
    const digestOf = async (ref: string) => JSON.parse((await skopeo(['inspect', '--tls-verify=false', ref])).out).Digest as string;
    const want = await digestOf(`oci:${layout}:v1`);
    const a = join(dir, 'a.tar');
    await strataOk(['image', 'copy', `oci:${layout}:v1`, `oci-archive:${a}:v1`], root(), env);
    expect(await digestOf(`oci-archive:${a}:v1`)).toBe(want);
    const remote = `${plain.host}/interop/from-archive:1`;
    const pushed = await strataOk(['-q', 'image', 'copy', `oci-archive:${a}:v1`, `docker://${remote}`], root(), env);
    expect(pushed.out.trim()).toBe(want);
    expect(await digestOf(`docker://${remote}`)).toBe(want);
    // back into an archive: the same bytes each time (sorted entries, owned by root, dated 0)
    const b = join(dir, 'b.tar');
    const c = join(dir, 'c.tar');
    await strataOk(['image', 'copy', `docker://${remote}`, `oci-archive:${b}`], root(), env);
    await strataOk(['image', 'copy', `docker://${remote}`, `oci-archive:${c}`], root(), env);
    expect(await digestOf(`oci-archive:${b}`)).toBe(want);
    expect(readFileSync(b).equals(readFileSync(c))).toBe(true);
    // nothing left behind in the store's scratch space
    expect(existsSync(join(root(), 'tmp')) ? readdirSync(join(root(), 'tmp')).filter((n) => n.startsWith('copy-')) : []).toEqual([]);
    // not an archive: one line
    writeFileSync(join(dir, 'not.tar'), 'plain text');
    const bad = await runStrata(['image', 'copy', `oci-archive:${join(dir, 'not.tar')}`, `oci:${join(dir, 'nowhere')}`], { root: root(), env });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split('\n')[0]).toMatch(/^strata: /);
  });

  it('docker-archive ↔ docker:// and to oci: (through a scratch store): the image ID kept; docker loads the archive', async () => {
    const env = envFor(plain, join(dir, 'cfg-plain'));
    const id = (await strataOk(['image', 'inspect', '-f', '{{.Id}}', 'bb:1'], root(), env)).out.trim();
    const configOf = async (ref: string) => JSON.parse((await skopeo(['inspect', '--tls-verify=false', '--raw', ref])).out).config.digest as string;
    const archive = join(dir, 'd.tar');
    await strataOk(['image', 'copy', 'bb:1', `docker-archive:${archive}:example.com/bb:7`], root(), env);
    // into a registry: the layers compressed on the way, the config (the image ID) as it was
    const remote = `${plain.host}/interop/from-docker-archive`;
    const pushed = await strataOk(['-q', 'image', 'copy', `docker-archive:${archive}`, `docker://${remote}`], root(), env);
    const inspected = JSON.parse((await skopeo(['inspect', '--tls-verify=false', `docker://${remote}:7`])).out);
    expect(pushed.out.trim()).toBe(inspected.Digest);
    expect(await configOf(`docker://${remote}:7`)).toBe(id);
    // and back out: docker loads it under the source's name, with the same ID
    const out = join(dir, 'from-registry.tar');
    await strataOk(['image', 'copy', `docker://${remote}:7`, `docker-archive:${out}`], root(), env);
    dockerImages.push(`${remote}:7`);
    const loaded = await dockerOk(['load', '-i', out]);
    expect(loaded.out).toContain(`Loaded image: ${remote}:7`);
    expect((await dockerOk(['image', 'inspect', '-f', '{{.Id}}', `${remote}:7`])).out.trim()).toBe(id);
    // a docker-archive into an OCI layout
    const layout = join(dir, 'darchive-layout');
    await strataOk(['image', 'copy', `docker-archive:${out}`, `oci:${layout}:v7`], root(), env);
    expect(await configOf(`oci:${layout}:v7`)).toBe(id);
    // a name the archive does not hold: one line, nothing written
    const missing = await runStrata(['image', 'copy', `docker-archive:${archive}:example.com/nosuch:1`, `oci:${join(dir, 'never')}`], { root: root(), env });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toBe('strata: no image named "example.com/nosuch:1" in the archive (it holds example.com/bb:7)\n');
    expect(existsSync(join(dir, 'never'))).toBe(false);
    // the scratch stores are gone
    expect(existsSync(join(root(), 'tmp')) ? readdirSync(join(root(), 'tmp')).filter((n) => n.startsWith('copy-')) : []).toEqual([]);
  });

  it('one config.json: docker login → strata pull, strata login → docker pull', async () => {
    const ref = `${basic.host}/interop/bb:1`;
    const cfgA = join(dir, 'cfg-a');
    const envA = envFor(basic, cfgA);
    await dockerOk(['login', '-u', basic.user, '--password-stdin', basic.host], { env: envA, input: basic.password });
    await strataOk(['push', 'bb:1', ref], root(), envA);
    await strataOk(['pull', '-q', ref], join(dir, 'store-a'), envA);
    const cfgB = join(dir, 'cfg-b');
    const envB = envFor(basic, cfgB);
    await strataOk(['login', '-u', basic.user, '--password-stdin', basic.host], root(), envB, basic.password);
    dockerImages.push(ref);
    await dockerOk(['pull', '-q', ref], { env: envB });
    const out = await strataOk(['logout', basic.host], root(), envB);
    expect(out.out).toContain('Removing login credentials');
    expect(JSON.parse(readFileSync(join(cfgB, 'config.json'), 'utf8')).auths[basic.host]).toBeUndefined();
    const denied = await runStrata(['pull', ref], { root: join(dir, 'store-b'), env: envB });
    expect(denied.code).toBe(2);
    expect(denied.stderr).toMatch(/^strata: .*unauthorized/m);
    expect(denied.stderr).toMatch(/^hint: .*strata login/m);
    expect(existsSync(join(dir, 'store-b', 'index.json')) ? JSON.parse(readFileSync(join(dir, 'store-b', 'index.json'), 'utf8')).manifests : []).toEqual([]);
  });

  it('asks a fake docker-credential helper: credsStore, and credHelpers winning over it', async () => {
    const bin = join(dir, 'bin');
    const log = join(dir, 'helper.log');
    fakeHelper(bin, 'strata-fake', basic.user, basic.password, log);
    fakeHelper(bin, 'strata-fake2', basic.user, basic.password, `${log}2`);
    const path = `${bin}:${process.env.PATH}`;
    const cfg = join(dir, 'cfg-helper');
    const env = envFor(basic, cfg, { PATH: path });
    writeFileSync(join(cfg, 'config.json'), JSON.stringify({ credsStore: 'strata-fake' }));
    await strataOk(['pull', '-q', `${basic.host}/interop/bb:1`], join(dir, 'store-h1'), env);
    expect(readFileSync(log, 'utf8')).toContain(`get ${basic.host}`);
    writeFileSync(join(cfg, 'config.json'), JSON.stringify({ credsStore: 'strata-missing', credHelpers: { [basic.host]: 'strata-fake2' } }));
    await strataOk(['pull', '-q', `${basic.host}/interop/bb:1`], join(dir, 'store-h2'), env);
    expect(readFileSync(`${log}2`, 'utf8')).toContain(`get ${basic.host}`);
    // strata login stores through the helper, never in the file
    await strataOk(['login', '-u', basic.user, '--password-stdin', basic.host], root(), env, basic.password);
    expect(readFileSync(`${log}2`, 'utf8')).toContain('store');
    expect(readFileSync(join(cfg, 'config.json'), 'utf8')).not.toContain(Buffer.from(`${basic.user}:${basic.password}`).toString('base64'));
  });
});
