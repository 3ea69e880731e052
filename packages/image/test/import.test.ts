import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { busyboxRootfsTar, cleanupTempDirs, dockerOk, hashTree, peerAvailable, tempDir } from '@strata/testing';
import { sha256 } from '@strata/oci';
import { StrataError } from '@strata/errors';
import { applyChanges, importRootfs } from '../src/index';
import { blobBytes, gzip, makeTar, testSink, zstd } from './helpers';

afterAll(() => cleanupTempDirs());

async function doImport(root: string, bytes: Buffer, opts: { tag?: string; changes?: string[]; message?: string } = {}) {
  let sink: Awaited<ReturnType<typeof testSink>> | undefined;
  const r = await importRootfs({ root, openStore: async () => (sink = await testSink(root)), source: { stream: (async function* () { yield bytes; })() }, ...opts });
  return { ...r, sink };
}

describe('image import', () => {
  it('makes a one-layer image the way docker import does; compressed input is stored decompressed', async () => {
    const rootfs = await makeTar([{ name: 'bin/', type: 'directory' }, { name: 'bin/x', data: 'x' }]);
    const xz = execFileSync('xz', ['-c'], { input: rootfs });
    const bz = execFileSync('bzip2', ['-c'], { input: rootfs });
    for (const input of [rootfs, gzip(rootfs), zstd(rootfs), xz, bz]) {
      const root = tempDir();
      const r = await doImport(root, input, { tag: 'docker.io/library/imp:1', changes: ['CMD ["sh"]'] });
      expect(r.tags).toEqual(['docker.io/library/imp:1']);
      const config = JSON.parse((await blobBytes(root, r.id as `sha256:${string}`)).toString());
      expect(config.rootfs.diff_ids).toEqual([sha256(rootfs)]);
      expect(config.history).toEqual([{ created: config.created, comment: 'Imported from -' }]);
      expect(config.architecture).toBe('amd64');
      expect(config.os).toBe('linux');
      expect(config.config.Cmd).toEqual(['sh']);
      expect(await blobBytes(root, sha256(rootfs))).toEqual(rootfs);
    }
  });

  it('--change instructions', () => {
    const c = applyChanges({}, [
      'CMD echo hi',
      'ENTRYPOINT ["/bin/app", "--x"]',
      'ENV A=1 B="two words"',
      'ENV C 3 4',
      'EXPOSE 80 53/udp',
      'LABEL a=b "c d"=e',
      'USER app',
      'WORKDIR /srv',
      'WORKDIR data',
      'VOLUME ["/v1", "/v2"]',
      'STOPSIGNAL SIGINT',
    ]);
    expect(c).toEqual({
      Cmd: ['/bin/sh', '-c', 'echo hi'],
      Entrypoint: ['/bin/app', '--x'],
      Env: ['A=1', 'B=two words', 'C=3 4'],
      ExposedPorts: { '80/tcp': {}, '53/udp': {} },
      Labels: { a: 'b', 'c d': 'e' },
      User: 'app',
      WorkingDir: '/srv/data',
      Volumes: { '/v1': {}, '/v2': {} },
      StopSignal: 'SIGINT',
    });
    expect(applyChanges({ Cmd: ['old'] }, ['ENTRYPOINT ["e"]']).Cmd).toBeNull();
    expect(() => applyChanges({}, ['RUN rm -rf /'])).toThrow(/not a valid change command/);
  });

  it('refuses a non-tar and an escaping member, leaving the store unchanged', async () => {
    const root = tempDir();
    await doImport(root, await makeTar([{ name: 'a', data: 'a' }]), { tag: 'docker.io/library/keep:1' });
    const before = hashTree(root);
    for (const [bytes, code] of [
      [Buffer.from('not a tar at all\n'.repeat(64)), 'INVALID_TAR'],
      [await makeTar([{ name: '../../etc/x', data: 'x' }]), 'UNSAFE_PATH'],
      [gzip(Buffer.from('nope')), 'INVALID_TAR'],
    ] as const) {
      const err = await doImport(root, bytes, { tag: 'docker.io/library/bad:1' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StrataError);
      expect((err as StrataError).code).toBe(code);
      expect(hashTree(root)).toBe(before);
      const fresh = join(tempDir(), 'fresh');
      await expect(doImport(fresh, bytes)).rejects.toThrow(StrataError);
      expect(existsSync(fresh)).toBe(false);
    }
  });

  describe.skipIf(!peerAvailable('docker'))('same as docker import', () => {
    // (Docker 20.10's import has no STOPSIGNAL change; strata accepts it as later Dockers do.)
    it('config and diffID equal Docker\'s for the busybox rootfs with --change', async () => {
      const tar = busyboxRootfsTar();
      const changes = ['CMD ["sh"]', 'ENV A=1 B=2', 'EXPOSE 8080', 'LABEL org.x=y', 'USER app', 'WORKDIR /home/app', 'ENTRYPOINT ["/bin/sh", "-c"]', 'VOLUME /data'];
      const tag = 'strata-it-formats/import:1';
      await dockerOk(['import', ...changes.flatMap((c) => ['--change', c]), tar, tag]);
      try {
        const inspect = JSON.parse((await dockerOk(['image', 'inspect', tag])).out)[0];
        const root = tempDir();
        const r = await doImport(root, readFileSync(tar), { tag: `docker.io/${tag}`, changes });
        const config = JSON.parse((await blobBytes(root, r.id as `sha256:${string}`)).toString());
        expect(config.rootfs.diff_ids).toEqual(inspect.RootFS.Layers);
        expect(config.config).toEqual(inspect.Config);
        expect(config.comment).toBe(inspect.Comment);
        expect(config.architecture).toBe(inspect.Architecture);
        expect(config.os).toBe(inspect.Os);
      } finally {
        await dockerOk(['rmi', tag]);
      }
    });
  });
});
