// Docker's flag syntaxes for mounts, sizes and --volumes-from, parsed without I/O.
import { describe, expect, it } from 'vitest';
import { parseBytes, parseMountFlag, parseTmpfsFlag, parseVolumeFlag, parseVolumesFrom } from '../src/index';

describe('-v', () => {
  it.each([
    ['/data', { type: 'volume', source: '', target: '/data', anonymous: true }],
    ['/data/', { type: 'volume', source: '', target: '/data', anonymous: true }],
    ['db:/var/lib/db', { type: 'volume', source: 'db', target: '/var/lib/db', readonly: false, nocopy: false }],
    ['db:/d:ro', { type: 'volume', source: 'db', target: '/d', readonly: true, nocopy: false }],
    ['db:/d:ro,nocopy', { type: 'volume', source: 'db', target: '/d', readonly: true, nocopy: true }],
    ['/srv:/srv:rw,z', { type: 'bind', source: '/srv', target: '/srv', readonly: false }],
    ['/srv/./x/:/y:ro', { type: 'bind', source: '/srv/x/', target: '/y', readonly: true }],
  ])('%s', (spec, want) => {
    expect(parseVolumeFlag(spec)).toEqual(want);
  });
  it.each([
    ['rel:x', /container path must be absolute/],
    ['./rel:/x', /includes invalid characters for a local volume name.*use absolute path/],
    ['a:/x', /volume name is too short/],
    ['v:/x:bogus', /invalid mode: bogus/],
    ['/h:/x:nocopy', /invalid mode: nocopy/],
    ['a:b:c:d', /invalid volume specification/],
  ])('refuses %j', (spec, msg) => {
    expect(() => parseVolumeFlag(spec)).toThrow(msg);
  });
});

describe('--mount', () => {
  it.each([
    ['type=volume,source=db,target=/d', { type: 'volume', source: 'db', target: '/d', readonly: false, nocopy: false }],
    ['type=volume,dst=/d,volume-nocopy', { type: 'volume', source: '', target: '/d', readonly: false, nocopy: true, anonymous: true }],
    ['src=db,dst=/d,readonly=true', { type: 'volume', source: 'db', target: '/d', readonly: true, nocopy: false }],
    ['type=bind,source=/srv,target=/srv,readonly,bind-propagation=rprivate', { type: 'bind', source: '/srv', target: '/srv', readonly: true }],
    ['type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770', { type: 'tmpfs', target: '/t', readonly: false, size: 1048576, mode: 0o1770 }],
  ])('%s', (spec, want) => {
    expect(parseMountFlag(spec)).toEqual(want);
  });
  it.each([
    ['type=volume,src=db', /target is required/],
    ['type=bind,dst=/x', /source is required for a bind mount/],
    ['type=bind,src=rel,dst=/x', /must be an absolute path/],
    ['type=tmpfs,src=x,dst=/x', /a tmpfs has no source/],
    ['type=bind,src=/a,dst=/x,volume-nocopy', /cannot mix 'volume-\*' options with mount type 'bind'/],
    ['type=nfs,dst=/x', /type must be volume, bind or tmpfs/],
    ['type=volume,dst=/x,color=red', /unexpected key 'color'/],
    ['type=volume,dst=/x,readonly=maybe', /readonly must be true or false/],
  ])('refuses %j', (spec, msg) => {
    expect(() => parseMountFlag(spec)).toThrow(msg);
  });
});

describe('--tmpfs, sizes, --volumes-from', () => {
  it('parses', () => {
    expect(parseTmpfsFlag('/run')).toEqual({ type: 'tmpfs', target: '/run' });
    expect(parseTmpfsFlag('/run:rw,noexec,size=64m,mode=755')).toEqual({ type: 'tmpfs', target: '/run', size: 64 << 20, mode: 0o755 });
    expect(() => parseTmpfsFlag('/run:color=red')).toThrow(/invalid --tmpfs option "color=red"/);
    expect([parseBytes('32m', 'x'), parseBytes('1g', 'x'), parseBytes('512k', 'x'), parseBytes('100', 'x'), parseBytes('1.5m', 'x')]).toEqual([32 << 20, 1 << 30, 512 << 10, 100, 1572864]);
    expect(() => parseBytes('lots', '--memory')).toThrow(/invalid --memory "lots"/);
    expect(parseVolumesFrom('c')).toEqual({ container: 'c', mode: undefined });
    expect(parseVolumesFrom('c:ro')).toEqual({ container: 'c', mode: 'ro' });
    expect(() => parseVolumesFrom('c:rx')).toThrow(/CONTAINER\[:ro\|:rw\]/);
  });
});
