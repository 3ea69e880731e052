// An index (linux/amd64, linux/arm64/v8, linux/arm/v7) built here: --platform picks what skopeo's
// --override-arch picks (arm64 ≡ arm64/v8, arm ≡ arm/v7), an unknown one fails listing what the
// index offers, and copy --all-platforms keeps the index digest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { cleanupTempDirs, peerAvailable, runStrata, startRegistry, tempDir, type RegistryServer } from '@strata/testing';
import { layoutContents, skopeo, strataOk } from './helpers';

const ready = peerAvailable('docker-registry') && peerAvailable('skopeo');

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** An OCI layout holding one index of three tiny single-layer images, named `multi`. */
function writeIndexLayout(dir: string): string {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (b: Buffer | string) => {
    const d = sha(b);
    writeFileSync(join(blobs, d.slice(7)), b);
    return { digest: d, size: Buffer.byteLength(b) };
  };
  const platforms = [
    { os: 'linux', architecture: 'amd64' },
    { os: 'linux', architecture: 'arm64', variant: 'v8' },
    { os: 'linux', architecture: 'arm', variant: 'v7' },
  ];
  const manifests = platforms.map((p) => {
    const src = join(dir, `src-${p.architecture}`);
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'arch'), `${p.architecture}\n`);
    const tar = execFileSync('tar', ['-C', src, '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-cf', '-', 'arch']);
    const layer = put(gzipSync(tar));
    const config = put(JSON.stringify({ architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}), config: {}, rootfs: { type: 'layers', diff_ids: [sha(tar)] } }));
    const m = put(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
    }));
    return { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, platform: p };
  });
  const index = put(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...index, annotations: { 'org.opencontainers.image.ref.name': 'multi' } }] }));
  return index.digest;
}

describe.skipIf(!ready)('multi-platform indexes', () => {
  let reg: RegistryServer;
  let dir: string;
  let indexDigest: string;
  const env = { TZ: 'UTC' };
  const ref = () => `${reg.host}/platforms/multi:1`;

  beforeAll(async () => {
    dir = tempDir('strata-platforms-');
    reg = await startRegistry('plain', join(dir, 'registry'));
    indexDigest = writeIndexLayout(join(dir, 'layout'));
    await strataOk(['image', 'copy', '--all-platforms', `oci:${join(dir, 'layout')}:multi`, `docker://${ref()}`], join(dir, 'store'), env);
  });
  afterAll(async () => {
    await reg?.stop();
    cleanupTempDirs();
  });

  it('copy --all-platforms keeps the index digest, registry to registry too', async () => {
    expect((await strataOk(['image', 'digest', `docker://${ref()}`], join(dir, 'store'), env)).out.trim()).toBe(indexDigest);
    await strataOk(['image', 'copy', '--all-platforms', `docker://${ref()}`, `docker://${reg.host}/platforms/copy:1`], join(dir, 'store'), env);
    expect((await strataOk(['image', 'digest', `docker://${reg.host}/platforms/copy:1`], join(dir, 'store'), env)).out.trim()).toBe(indexDigest);
  });

  it.each([
    ['linux/arm64', 'arm64'],
    ['linux/arm64/v8', 'arm64'],
    ['linux/arm', 'arm'],
  ])('--platform %s picks what skopeo --override-arch picks', async (platform, arch) => {
    const tag = platform.replace(/\//g, '-');
    const store = join(dir, `store-${tag}`);
    await strataOk(['pull', '-q', '--platform', platform, ref()], store, env);
    expect((await strataOk(['image', 'inspect', '-f', '{{.Architecture}}', ref()], store, env)).out.trim()).toBe(arch);
    await strataOk(['image', 'copy', '--platform', platform, `docker://${ref()}`, `oci:${join(dir, `mine-${tag}`)}:x`], store, env);
    await skopeo(['copy', '-q', '--src-tls-verify=false', '--override-arch', arch, `docker://${ref()}`, `oci:${join(dir, `skopeo-${tag}`)}:x`]);
    expect(layoutContents(join(dir, `mine-${tag}`)).top).toBe(layoutContents(join(dir, `skopeo-${tag}`)).top);
  });

  it('a platform the index lacks: an error listing what it offers', async () => {
    const r = await runStrata(['pull', '--platform', 'linux/s390x', ref()], { root: join(dir, 'store-none'), env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^strata: .*no linux\/s390x image in the index; it offers linux\/amd64, linux\/arm64\/v8, linux\/arm\/v7$/m);
  });
});
