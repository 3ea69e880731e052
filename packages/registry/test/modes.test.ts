// Debian's docker-registry in four modes (plain http, htpasswd Basic, https with a CA made here
// plus htpasswd, Bearer tokens from a token server started here): pull, push and remote inspect
// work in each, and `image copy docker://… oci:DIR` equals `skopeo copy` digest for digest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { cleanupTempDirs, peerAvailable, runStrata, startRegistry, tempDir, type RegistryServer } from '@strata/testing';
import { envFor, layoutContents, skopeo, skopeoFlags, storeWithBusybox, strataOk, uploads } from './helpers';

const ready = peerAvailable('docker-registry') && peerAvailable('skopeo') && peerAvailable('htpasswd') && peerAvailable('openssl');

describe.skipIf(!ready).each(['plain', 'basic', 'tls', 'token'] as const)('docker-registry, %s', (mode) => {
  let reg: RegistryServer;
  let dir: string;
  let env: Record<string, string>;
  let authfile: string;
  const root = () => join(dir, 'store');

  beforeAll(async () => {
    dir = tempDir('strata-registry-');
    reg = await startRegistry(mode, join(dir, 'registry'));
    env = envFor(reg, join(dir, 'docker-config'));
    authfile = join(dir, 'docker-config', 'config.json');
    await storeWithBusybox(root(), 'bb:1');
    if (mode !== 'plain') await strataOk(['login', '-u', reg.user, '--password-stdin', reg.host], root(), env, `${reg.password}\n`);
  });
  afterAll(async () => {
    await reg?.stop();
    cleanupTempDirs();
  });

  it.skipIf(mode === 'plain')('login saves the credentials in config.json as docker does, and never prints them', async () => {
    const config = JSON.parse(readFileSync(authfile, 'utf8'));
    expect(Buffer.from(config.auths[reg.host].auth, 'base64').toString()).toBe(`${reg.user}:${reg.password}`);
    const bad = await runStrata(['login', '-u', reg.user, '--password-stdin', reg.host], { root: root(), env: { ...env, DOCKER_CONFIG: join(dir, 'other-config') }, input: 'wrong\n' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^strata: .*unauthorized/m);
    expect(bad.stderr).not.toContain('wrong');
  });

  it('push, push again (nothing uploaded), pull into another store (same image ID)', async () => {
    const pushed = await strataOk(['image', 'push', '--progress', 'plain', 'bb:1', `${reg.host}/modes/bb:1`], root(), env);
    expect(pushed.out).toMatch(new RegExp(`^${reg.host}/modes/bb:1@sha256:[0-9a-f]{64}\\n$`));
    expect(pushed.stderr).not.toContain(reg.password);
    // Docker's per-layer wording, one line per change without a terminal
    expect(pushed.stderr).toMatch(/^The push refers to repository \[127\.0\.0\.1:\d+\/modes\/bb\]$/m);
    expect(pushed.stderr).toMatch(/^[0-9a-f]{12}: Pushed$/m);
    const before = uploads(await reg.settledLog());
    const again = await strataOk(['--format', 'json', 'image', 'push', 'bb:1', `${reg.host}/modes/bb:1`], root(), env);
    expect(JSON.parse(again.out)).toMatchObject({ uploaded: 0, uploadedBytes: 0 });
    expect(uploads(await reg.settledLog())).toBe(before);
    const id = (await strataOk(['image', 'inspect', '--format', '{{.Id}}', 'bb:1'], root(), env)).out.trim();
    const other = join(dir, 'store2');
    const pulled = await strataOk(['pull', '--progress', 'json', `${reg.host}/modes/bb:1`], other, env);
    const events = pulled.stderr.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string });
    expect(events.some((e) => e.type === 'layer' && e.status === 'Pull complete')).toBe(true);
    expect(pulled.out).toBe(`${reg.host}/modes/bb:1\n`);
    expect((await strataOk(['image', 'inspect', '--format', '{{.Id}}', `${reg.host}/modes/bb:1`], other, env)).out.trim()).toBe(id);
    // RepoDigests as Docker shows them: the repository and the manifest digest pushed
    const digest = pushed.out.trim().split('@')[1];
    expect(JSON.parse((await strataOk(['image', 'inspect', `${reg.host}/modes/bb:1`], other, env)).out)[0].RepoDigests).toEqual([`${reg.host}/modes/bb@${digest}`]);
    const check = await runStrata(['store', 'check'], { root: other });
    expect(check.code).toBe(0);
  });

  it('remote inspect gives skopeo inspect\'s fields; --raw the manifest bytes; tags; digest', async () => {
    const ref = `docker://${reg.host}/modes/bb:1`;
    const mine = JSON.parse((await strataOk(['image', 'inspect', ref], root(), env)).out);
    const theirs = JSON.parse((await skopeo(['inspect', ...skopeoFlags(reg, '', authfile), ref])).out);
    // skopeo 1.9 has no LayersData yet (later ones print it): the rest is field for field
    const { LayersData, ...rest } = mine;
    expect(rest).toEqual(theirs);
    expect(LayersData.map((l: { Digest: string }) => l.Digest)).toEqual(theirs.Layers);
    const raw = (await strataOk(['image', 'inspect', '--raw', ref], root(), env)).stdout;
    const raw2 = (await skopeo(['inspect', '--raw', ...skopeoFlags(reg, '', authfile), ref])).stdout;
    expect(raw.equals(raw2)).toBe(true);
    const config = JSON.parse((await strataOk(['image', 'inspect', '--config', ref], root(), env)).out);
    expect(config.rootfs.type).toBe('layers');
    expect((await strataOk(['image', 'tags', `docker://${reg.host}/modes/bb`], root(), env)).out).toBe('1\n');
    expect((await strataOk(['image', 'digest', ref], root(), env)).out.trim()).toBe(theirs.Digest);
  });

  it('copy docker://… oci:DIR equals skopeo copy, digest for digest', async () => {
    const ref = `docker://${reg.host}/modes/bb:1`;
    await strataOk(['image', 'copy', ref, `oci:${join(dir, 'oci-strata')}:v1`], root(), env);
    await skopeo(['copy', '-q', ...skopeoFlags(reg, 'src', authfile), ref, `oci:${join(dir, 'oci-skopeo')}:v1`]);
    const a = layoutContents(join(dir, 'oci-strata'));
    const b = layoutContents(join(dir, 'oci-skopeo'));
    expect(a.top).toBe(b.top);
    expect(a.blobs).toEqual(b.blobs);
  });

  it.skipIf(mode !== 'tls')('without the CA: a one-line error that says how to trust it', async () => {
    const { STRATA_CERTS_DIR: _ca, ...noCa } = env;
    void _ca;
    const r = await runStrata(['pull', `${reg.host}/modes/bb:1`], { root: join(dir, 'store3'), env: { ...noCa, STRATA_CERTS_DIR: join(dir, 'no-certs') } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^strata: 127\.0\.0\.1:\d+: x509: .*unknown authority/m);
    expect(r.stderr).toMatch(new RegExp(`^hint: .*${reg.host}/ca\\.crt`, 'm'));
  });

  it.skipIf(mode !== 'token')('asks the token server for the repository scopes it needs', () => {
    const scopes = reg.tokenRequests().flatMap((r) => r.scope);
    expect(scopes).toContain('repository:modes/bb:pull,push');
    expect(scopes).toContain('repository:modes/bb:pull');
  });
});
