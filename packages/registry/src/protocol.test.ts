import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseIndex } from '@strata/oci';
import { parseChallenges } from './challenge';
import { lookupCredential, storeCredential, eraseCredential } from './credentials';
import { apiHost, configKey, isLoopback, serverDomain } from './names';
import { parsePlatformSpec, selectPlatform } from './platform';
import { dockerConfigToOci } from './oci-convert';

describe('WWW-Authenticate', () => {
  it.each([
    ['Basic realm="registry"', [{ scheme: 'basic', params: { realm: 'registry' } }]],
    [
      'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"',
      [{ scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' } }],
    ],
    [
      'Basic realm="x", Bearer realm="https://t/token", scope="repository:a:pull repository:b:pull"',
      [
        { scheme: 'basic', params: { realm: 'x' } },
        { scheme: 'bearer', params: { realm: 'https://t/token', scope: 'repository:a:pull repository:b:pull' } },
      ],
    ],
    ['Bearer realm="a\\"b",error="invalid_token"', [{ scheme: 'bearer', params: { realm: 'a"b', error: 'invalid_token' } }]],
    ['Bearer realm=https://t/token,service=reg', [{ scheme: 'bearer', params: { realm: 'https://t/token', service: 'reg' } }]],
  ])('%s', (header, expected) => {
    expect(parseChallenges(header)).toEqual(expected);
  });
});

describe('names', () => {
  it('Docker Hub: API host, config key, login server', () => {
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(configKey('docker.io')).toBe('https://index.docker.io/v1/');
    expect(configKey('127.0.0.1:5000')).toBe('127.0.0.1:5000');
    expect(serverDomain(undefined)).toBe('docker.io');
    expect(serverDomain('https://index.docker.io/v1/')).toBe('docker.io');
    expect(serverDomain('https://host:5000/v2/')).toBe('host:5000');
  });
  it('loopback hosts may use http; others need an explicit setting', () => {
    for (const h of ['localhost:5000', '127.0.0.1:5000', '127.3.4.5', '[::1]:5000']) expect(isLoopback(h)).toBe(true);
    for (const h of ['example.com:5000', '10.0.0.1:5000', '128.0.0.1']) expect(isLoopback(h)).toBe(false);
  });
});

describe('platforms', () => {
  const index = parseIndex(
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'1'.repeat(64)}`, size: 1, platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'2'.repeat(64)}`, size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'3'.repeat(64)}`, size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'4'.repeat(64)}`, size: 1, platform: { os: 'unknown', architecture: 'unknown' } },
      ],
    }),
  );
  it.each([
    ['linux/amd64', '1'],
    ['linux/arm64', '2'],
    ['linux/arm64/v8', '2'],
    ['linux/arm', '3'],
    ['linux/arm/v7', '3'],
  ])('%s', (p, d) => expect(selectPlatform(index, parsePlatformSpec(p), 'x').digest).toBe(`sha256:${d.repeat(64)}`));
  it('an error that lists what the index offers (attestations left out)', () => {
    expect(() => selectPlatform(index, parsePlatformSpec('linux/arm/v6'), 'x')).toThrow('x: no linux/arm/v6 image in the index; it offers linux/amd64, linux/arm64/v8, linux/arm/v7');
    expect(() => parsePlatformSpec('linux')).toThrow(/invalid platform/);
  });
});

describe('config.json', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'strata-cred-'));
  it('auths: base64 user:password, matched with or without scheme; identitytoken', async () => {
    const d = dir();
    writeFileSync(join(d, 'config.json'), JSON.stringify({ auths: { 'https://h:5000/v1/': { auth: Buffer.from('u:p:w').toString('base64') }, 'x:1': { identitytoken: 'tok' } } }));
    const env = { DOCKER_CONFIG: d };
    expect(await lookupCredential('h:5000', { env })).toEqual({ username: 'u', password: 'p:w' });
    expect(await lookupCredential('x:1', { env })).toEqual({ identityToken: 'tok' });
    expect(await lookupCredential('other:1', { env })).toBeUndefined();
  });
  it('store and erase keep the other entries and write mode 0600', async () => {
    const d = dir();
    writeFileSync(join(d, 'config.json'), JSON.stringify({ auths: { 'a:1': { auth: 'eDp5' } }, psFormat: 'table' }));
    await storeCredential('b:2', { username: 'u', password: 'p' }, { env: { DOCKER_CONFIG: d } });
    const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
    expect(c.psFormat).toBe('table');
    expect(Object.keys(c.auths).sort()).toEqual(['a:1', 'b:2']);
    expect(statSync(join(d, 'config.json')).mode & 0o777).toBe(0o600);
    expect(await eraseCredential('b:2', { env: { DOCKER_CONFIG: d } })).toBe(true);
    expect(Object.keys(JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')).auths)).toEqual(['a:1']);
  });
  it('$DOCKER_CONFIG unset: ~/.docker/config.json of $HOME', async () => {
    const home = dir();
    mkdirSync(join(home, '.docker'));
    writeFileSync(join(home, '.docker', 'config.json'), JSON.stringify({ auths: { 'h:1': { auth: Buffer.from('a:b').toString('base64') } } }));
    expect(await lookupCredential('h:1', { env: { HOME: home } })).toEqual({ username: 'a', password: 'b' });
  });
});

describe('Docker config → OCI config, as skopeo writes it', () => {
  it('matches skopeo 1.9 byte for byte (a `docker import`ed busybox)', () => {
    // the config Docker 20.10 wrote for `docker import --change 'CMD ["sh"]'`, and the one skopeo
    // copy docker://… oci: wrote for it (both captured from the real tools)
    const docker =
      '{"architecture":"amd64","comment":"Imported from -","config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["sh"],"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"container_config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"created":"2026-12-02T08:25:26.295125372Z","docker_version":"20.10.24+dfsg1","history":[{"created":"2026-12-02T08:25:26.295125372Z","comment":"Imported from -"}],"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:4d14d217f286500a839cfe172a1eceecd5cb3bfc12a038d759b39a83d3548bcb"]}}';
    const skopeo =
      '{"created":"2026-12-02T08:25:26.295125372Z","architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:4d14d217f286500a839cfe172a1eceecd5cb3bfc12a038d759b39a83d3548bcb"]},"history":[{"created":"2026-12-02T08:25:26.295125372Z","comment":"Imported from -"}]}';
    expect(dockerConfigToOci(Buffer.from(docker)).toString()).toBe(skopeo);
  });
  it("Go's encoding: HTML-safe escapes, sorted maps, times without trailing zeros", () => {
    const out = dockerConfigToOci(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', created: '2020-01-01T00:00:00.500000000+00:00', config: { Labels: { b: '<&>', a: 'x' }, ExposedPorts: { '80/tcp': {} } }, rootfs: { type: 'layers', diff_ids: [] } })));
    expect(out.toString()).toBe('{"created":"2020-01-01T00:00:00.5Z","architecture":"amd64","os":"linux","config":{"ExposedPorts":{"80/tcp":{}},"Labels":{"a":"x","b":"\\u003c\\u0026\\u003e"}},"rootfs":{"type":"layers","diff_ids":[]}}');
  });
});
