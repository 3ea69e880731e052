import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, tempDir } from '@strata/testing';
import { buildSpec, DEFAULT_CAPABILITIES, lookupInLayers, readFileInLayers, resolveUser, type SpecOptions } from '../src/index';

afterAll(() => cleanupTempDirs());

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nweb:x:33:33::/var/www:/bin/false\n';
const GROUP = 'root:x:0:\nwheel:x:10:root,app\nstaff:x:50:app\napp:x:1000:\n';

describe('resolveUser (Docker rules)', () => {
  const files = { passwd: PASSWD, group: GROUP };
  it.each([
    ['', { uid: 0, gid: 0, additionalGids: [0, 10], home: '/root' }],
    ['app', { uid: 1000, gid: 1000, additionalGids: [1000, 10, 50], home: '/home/app' }],
    ['1000', { uid: 1000, gid: 1000, additionalGids: [1000, 10, 50], home: '/home/app' }],
    ['app:staff', { uid: 1000, gid: 50, additionalGids: [50], home: '/home/app' }],
    ['33:0', { uid: 33, gid: 0, additionalGids: [0], home: '/var/www' }],
    ['4242', { uid: 4242, gid: 0, additionalGids: [0], home: '/' }],
    ['4242:4343', { uid: 4242, gid: 4343, additionalGids: [4343], home: '/' }],
  ])('%j', (spec, want) => {
    expect(resolveUser(spec, files)).toMatchObject(want);
  });
  it('refuses unknown names with Docker\'s message', () => {
    expect(() => resolveUser('nobody', files)).toThrow(/unable to find user nobody: no matching entries in passwd file/);
    expect(() => resolveUser('app:nogroup', files)).toThrow(/unable to find group nogroup/);
    expect(() => resolveUser('app', {})).toThrow(/unable to find user app/);
  });
});

describe('buildSpec', () => {
  const base: Omit<SpecOptions, 'user' | 'network'> = {
    rootfsPath: 'rootfs', args: ['sh'], env: ['PATH=/bin'], cwd: '/', hostname: 'h', terminal: false, readonlyRootfs: false, mounts: [], cgroupsPath: '/strata/x',
  };
  it('root gets Docker capabilities; other users only the bounding set', () => {
    const root = buildSpec({ ...base, user: resolveUser('', {}), network: 'host' }) as any;
    expect(root.process.capabilities.effective).toEqual(DEFAULT_CAPABILITIES);
    const app = buildSpec({ ...base, user: resolveUser('1000', {}), network: 'host' }) as any;
    expect(app.process.capabilities.effective).toEqual([]);
    expect(app.process.capabilities.bounding).toEqual(DEFAULT_CAPABILITIES);
  });
  it('network none adds a network namespace; mounts map to OCI mounts', () => {
    const s = buildSpec({
      ...base, user: resolveUser('', {}), network: 'none',
      mounts: [{ type: 'bind', source: '/src', target: '/dst', readonly: true }, { type: 'tmpfs', target: '/t', size: 1024, mode: 0o700 }],
    }) as any;
    expect(s.linux.namespaces.map((n: any) => n.type)).toEqual(['pid', 'ipc', 'uts', 'mount', 'network']);
    const hostNs = buildSpec({ ...base, user: resolveUser('', {}), network: 'host' }) as any;
    expect(hostNs.linux.namespaces.map((n: any) => n.type)).not.toContain('network');
    expect(s.mounts.find((m: any) => m.destination === '/dst')).toEqual({ destination: '/dst', type: 'bind', source: '/src', options: ['rbind', 'ro', 'rprivate'] });
    expect(s.mounts.find((m: any) => m.destination === '/t').options).toEqual(['nosuid', 'nodev', 'mode=700', 'size=1024']);
    expect(s.mounts.find((m: any) => m.destination === '/sys').options).toContain('ro');
    expect(s.linux.resources.devices[0]).toEqual({ allow: false, access: 'rwm' });
  });
});

describe('lookupInLayers', () => {
  it('honours whiteouts, type changes and symlinks inside the stack', () => {
    const d = tempDir();
    const [top, mid, bot] = ['top', 'mid', 'bot'].map((n) => join(d, n));
    for (const p of [join(bot, 'etc'), join(mid, 'etc'), join(top, 'gone'), join(bot, 'gone'), join(bot, 'real')]) mkdirSync(p, { recursive: true });
    writeFileSync(join(bot, 'etc', 'passwd'), 'bottom');
    writeFileSync(join(mid, 'etc', 'group'), 'mid');
    writeFileSync(join(bot, 'gone', 'f'), 'x');
    writeFileSync(join(bot, 'real', 'file'), 'via link');
    symlinkSync('/real', join(mid, 'link'));
    execFileSync('mknod', [join(top, 'gone', 'f'), 'c', '0', '0']);
    mkdirSync(join(top, 'etc'));
    execFileSync('mknod', [join(top, 'etc', 'group'), 'c', '0', '0']);
    const dirs = [top, mid, bot];
    expect(readFileInLayers(dirs, '/etc/passwd')?.toString()).toBe('bottom');
    expect(readFileInLayers(dirs, '/etc/group')).toBeUndefined();
    expect(lookupInLayers(dirs, '/gone/f')).toBeUndefined();
    expect(lookupInLayers(dirs, '/gone')?.stat.isDirectory()).toBe(true);
    expect(readFileInLayers(dirs, '/link/file')?.toString()).toBe('via link');
    expect(readFileInLayers(dirs, '/link/../../../etc/passwd')?.toString()).toBe('bottom');
  });
});
