import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { cleanupTempDirs, hashTree, isRoot, requireOrSkip, tempDir, writeTree } from '@strata/testing';
import { isStrataError } from '@strata/errors';
import { applyLayer, cleanPath, comparePaths, openTarFile, parseWhiteout, readTar, readXattrs, setXattr, tarFileBytes, whiteoutPath, opaquePath, writeTar, type TarEntry, type TarWriteEntry } from '../src';
import { HOSTILE_CASES, hostileSandbox, tarBytes } from './hostile-tars';

afterAll(cleanupTempDirs);

const T = 1_700_000_000;
const f = (path: string, data: string, extra: Partial<TarWriteEntry> = {}): TarWriteEntry => ({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, size: Buffer.byteLength(data), mtime: T, data, ...extra });
const d = (path: string, extra: Partial<TarWriteEntry> = {}): TarWriteEntry => ({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: T, ...extra });
const s = (path: string, linkname: string): TarWriteEntry => ({ path, type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtime: T, linkname });
const h = (path: string, linkname: string): TarWriteEntry => ({ path, type: 'hardlink', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: T, linkname });

async function entriesOf(buf: Buffer): Promise<Array<TarEntry & { content: string }>> {
  const out: Array<TarEntry & { content: string }> = [];
  for await (const { entry, body } of readTar(Readable.from([buf]))) {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(Buffer.from(c));
    out.push({ ...entry, content: Buffer.concat(chunks).toString('latin1') });
  }
  return out;
}
const apply = async (dir: string, entries: TarWriteEntry[], opts = {}) => applyLayer(dir, Readable.from([await tarBytes(entries)]), opts);

/** Why a user xattr cannot be set here, the way applyLayer sets it (a filesystem without them). */
function xattrsUnavailable(): string | undefined {
  const probe = join(tempDir(), 'probe');
  writeFileSync(probe, '');
  try {
    setXattr(probe, 'user.strata-probe', Buffer.from('1'));
    return undefined;
  } catch (err) {
    return `user xattrs cannot be set in ${probe}: ${(err as Error).message}`;
  }
}

const asRoot = requireOrSkip(isRoot(), 'applyLayer tests of owners, devices, xattrs and overlay whiteouts need root');
const xattrProblem = asRoot ? xattrsUnavailable() : undefined;

describe('cleanPath', () => {
  it.each([
    ['/etc/passwd', 'etc/passwd'], ['./a/b/', 'a/b'], ['a//b/./c', 'a/b/c'], ['a/b/../c', 'a/c'], ['/', '.'], ['.', '.'], ['', '.'],
  ])('%s → %s', (i, o) => expect(cleanPath(i)).toBe(o));
  it.each(['..', '../a', 'a/../..', '/../x'])('refuses %s', (i) => {
    expect(() => cleanPath(i)).toThrowError(/escapes the root/);
  });
  it('orders a directory right before its children', () => {
    expect(['a.txt', 'a/b', 'a', 'a-b', 'b', '.'].sort(comparePaths)).toEqual(['.', 'a', 'a/b', 'a-b', 'a.txt', 'b']);
  });
});

describe('whiteout codec', () => {
  it('encodes and decodes', () => {
    expect(whiteoutPath('etc/passwd')).toBe('etc/.wh.passwd');
    expect(whiteoutPath('x')).toBe('.wh.x');
    expect(opaquePath('var/lib')).toBe('var/lib/.wh..wh..opq');
    expect(parseWhiteout('etc/.wh.passwd')).toEqual({ kind: 'whiteout', target: 'etc/passwd' });
    expect(parseWhiteout('var/.wh..wh..opq')).toEqual({ kind: 'opaque', dir: 'var' });
    expect(parseWhiteout('.wh..wh.plnk')).toEqual({ kind: 'meta' });
    expect(parseWhiteout('etc/passwd')).toBeUndefined();
  });
});

describe('writeTar / readTar', () => {
  it('round-trips every entry kind, long and non-ASCII names, big ids, binary xattrs, sub-second times', async () => {
    const long = `${'d'.repeat(90)}/${'e'.repeat(90)}/${'f'.repeat(120)}`;
    const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0xff, 0xfe]);
    const entries: TarWriteEntry[] = [
      d('.', { mode: 0o755 }),
      d('dir', { mode: 0o1777, uid: 3_000_000, gid: 5 }),
      f('dir/file', 'hello', { mode: 0o4755, mtime: T + 0.25, uname: 'root', gname: 'wheel' }),
      f(long, 'x'.repeat(70000), { xattrs: { 'security.capability': cap, 'user.note': Buffer.from('hé') } }),
      f('naïve/ünïcode', 'u'),
      s('link', `${'t/'.repeat(80)}target`),
      h('hard', 'dir/file'),
      { path: 'dev/null', type: 'char', mode: 0o666, uid: 0, gid: 0, size: 0, mtime: T, devmajor: 1, devminor: 3 },
      { path: 'dev/sda', type: 'block', mode: 0o660, uid: 0, gid: 6, size: 0, mtime: T, devmajor: 8, devminor: 0 },
      { path: 'fifo', type: 'fifo', mode: 0o600, uid: 0, gid: 0, size: 0, mtime: T },
    ];
    const got = await entriesOf(await tarBytes(entries));
    expect(got.map((e) => [e.path, e.type, e.mode, e.uid, e.gid, e.size, e.mtime, e.linkname, e.devmajor, e.devminor])).toEqual(
      entries.map((e) => [e.path, e.type, e.mode, e.uid, e.gid, e.type === 'file' ? e.size : 0, e.mtime, e.linkname, e.devmajor, e.devminor]),
    );
    expect(got[3].xattrs?.['security.capability']).toEqual(cap);
    expect(got[3].xattrs?.['user.note']?.toString()).toBe('hé');
    expect(got[3].content).toBe('x'.repeat(70000));
    expect(got[2].uname).toBe('root');
  });

  it('is read by GNU tar exactly', async () => {
    const dir = tempDir();
    const long = `${'a'.repeat(150)}/b`;
    const tarFile = join(dir, 'x.tar');
    writeFileSync(tarFile, await tarBytes([d('top'), f('top/one', '1'), f(long, 'L'), s('top/sl', '../' + 'q'.repeat(120)), h('top/hl', 'top/one')]));
    const listed = execFileSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).trim().split('\n');
    expect(listed).toEqual(['top/', 'top/one', long, 'top/sl', 'top/hl']);
    const out = join(dir, 'out');
    mkdirSync(out);
    execFileSync('tar', ['-xf', tarFile, '-C', out]);
    expect(readlinkSync(join(out, 'top/sl'))).toBe('../' + 'q'.repeat(120));
    expect(lstatSync(join(out, 'top/hl')).ino).toBe(lstatSync(join(out, 'top/one')).ino);
  });

  it('reads what GNU tar writes (gnu and posix formats)', async () => {
    const dir = tempDir();
    const src = writeTree(join(dir, 'src'), { [`${'n'.repeat(120)}/${'m'.repeat(110)}.txt`]: 'long', 'a/b': 'b', 'a/l': { symlink: 'b' }, 'a/h': { hardlink: 'a/b' } });
    for (const format of ['gnu', 'posix', 'ustar']) {
      if (format === 'ustar') continue; // ustar cannot hold the long name
      const tarFile = join(dir, `${format}.tar`);
      execFileSync('tar', ['-c', `--format=${format}`, '-f', tarFile, '-C', src, '.']);
      const got = await entriesOf(readFileSync(tarFile));
      const byPath = new Map(got.map((e) => [e.path, e]));
      expect(byPath.get(`${'n'.repeat(120)}/${'m'.repeat(110)}.txt`)?.content).toBe('long');
      expect(byPath.get('a/l')).toMatchObject({ type: 'symlink', linkname: 'b' });
      const hl = [byPath.get('a/h'), byPath.get('a/b')].find((e) => e?.type === 'hardlink');
      expect(hl?.linkname === 'a/b' || hl?.linkname === 'a/h').toBe(true);
      expect(byPath.get('.')?.type).toBe('dir');
    }
  });

  it('writes PAX size records for files of 8 GiB and more', async () => {
    const { encodeEntryHeader } = await import('../src');
    const hdr = encodeEntryHeader({ path: 'huge', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 10 * 1024 ** 3, mtime: T });
    expect(hdr.length).toBe(1536);
    expect(hdr.subarray(512, 1024).toString('latin1')).toContain('size=10737418240\n');
    // and reads it back (headers only: the body is not there)
    const got = [];
    for await (const { entry } of readTar(Readable.from([hdr, Buffer.alloc(1024)]), {})) {
      got.push(entry.size);
      break;
    }
    expect(got).toEqual([10 * 1024 ** 3]);
  });

  it('clamps mtimes and can drop sub-second precision deterministically', async () => {
    const { writeTar } = await import('../src');
    const collect = async (opts: object) => {
      const chunks: Uint8Array[] = [];
      for await (const c of writeTar([f('a', 'x', { mtime: T + 10.5 })], opts)) chunks.push(c);
      return (await entriesOf(Buffer.concat(chunks)))[0].mtime;
    };
    expect(await collect({ clampMtime: T })).toBe(T);
    expect(await collect({ subsecond: false })).toBe(T + 10);
    expect(await collect({})).toBe(T + 10.5);
  });

  it('rejects garbage and truncation with INVALID_TAR', async () => {
    const good = await tarBytes([f('a', 'x'.repeat(1000))]);
    await expect(entriesOf(good.subarray(0, 700))).rejects.toMatchObject({ code: 'INVALID_TAR' });
    const bad = Buffer.from(good);
    bad[10] ^= 0xff;
    await expect(entriesOf(bad)).rejects.toMatchObject({ code: 'INVALID_TAR' });
  });
});

describe('applyLayer: Docker layer semantics', () => {
  it('whiteouts delete lower content, opaque dirs hide lower children, dir-on-dir keeps children', async () => {
    const dir = tempDir();
    await apply(dir, [d('etc'), f('etc/a', 'a'), f('etc/b', 'b'), d('var', { mode: 0o700 }), f('var/x', 'x'), d('opq'), f('opq/old', 'o'), d('opq/sub'), f('opq/sub/deep', 'd'), f('gone', 'g')]);
    await apply(dir, [
      d('etc', { mode: 0o750 }),
      f('etc/.wh.a', ''),
      d('opq'),
      f('opq/.wh..wh..opq', ''),
      d('opq/sub'),
      f('opq/sub/new', 'n'),
      f('.wh.gone', ''),
      f('var/x', 'x2'),
      // a whiteout for something this same layer wrote does not remove it
      f('new', 'n'),
      f('.wh.new', ''),
    ]);
    expect(existsSync(join(dir, 'etc/a'))).toBe(false);
    expect(readFileSync(join(dir, 'etc/b'), 'utf8')).toBe('b');
    expect(lstatSync(join(dir, 'etc')).mode & 0o7777).toBe(0o750);
    expect(lstatSync(join(dir, 'var')).mode & 0o7777).toBe(0o700);
    expect(readFileSync(join(dir, 'var/x'), 'utf8')).toBe('x2');
    expect(readdirSync(join(dir, 'opq')).sort()).toEqual(['sub']);
    expect(readdirSync(join(dir, 'opq/sub')).sort()).toEqual(['new']);
    expect(existsSync(join(dir, 'gone'))).toBe(false);
    expect(existsSync(join(dir, 'new'))).toBe(true);
    expect(existsSync(join(dir, '.wh.gone'))).toBe(false);
  });

  it('replaces anything that is not dir-on-dir', async () => {
    const dir = tempDir();
    await apply(dir, [d('a'), f('a/child', 'c'), f('b', 'b'), s('c', 'b')]);
    await apply(dir, [f('a', 'now a file'), d('b'), f('c', 'was a link')]);
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('now a file');
    expect(lstatSync(join(dir, 'b')).isDirectory()).toBe(true);
    expect(lstatSync(join(dir, 'c')).isFile()).toBe(true);
    expect(readFileSync(join(dir, 'b/../c'), 'utf8')).toBe('was a link');
  });

  it.skipIf(!asRoot)('applies owners, setuid/setgid/sticky modes, times, hardlinks, devices and fifos as root', async () => {
    const dir = tempDir();
    await apply(dir, [
      d('d', { mode: 0o3775, uid: 1000, gid: 1000, mtime: T + 5 }),
      f('d/su', '#!', { mode: 0o4755, uid: 1, gid: 2, mtime: T + 1.5 }),
      h('d/hl', 'd/su'),
      s('d/sl', 'su'),
      { path: 'null', type: 'char', mode: 0o666, uid: 0, gid: 0, size: 0, mtime: T, devmajor: 1, devminor: 3 },
      { path: 'p', type: 'fifo', mode: 0o640, uid: 0, gid: 0, size: 0, mtime: T },
      { path: 'tmp', type: 'dir', mode: 0o1777, uid: 0, gid: 0, size: 0, mtime: T },
    ]);
    const st = lstatSync(join(dir, 'd/su'));
    expect([st.mode & 0o7777, st.uid, st.gid, st.mtimeMs]).toEqual([0o4755, 1, 2, (T + 1.5) * 1000]);
    const dst = lstatSync(join(dir, 'd'));
    expect([dst.mode & 0o7777, dst.uid, dst.mtimeMs]).toEqual([0o3775, 1000, (T + 5) * 1000]);
    expect(lstatSync(join(dir, 'd/hl')).ino).toBe(st.ino);
    expect(lstatSync(join(dir, 'null')).isCharacterDevice()).toBe(true);
    expect(lstatSync(join(dir, 'p')).isFIFO()).toBe(true);
    expect(lstatSync(join(dir, 'tmp')).mode & 0o7777).toBe(0o1777);
  });

  it.skipIf(!asRoot || !requireOrSkip(xattrProblem === undefined, xattrProblem!))('applies xattrs as root', async () => {
    const dir = tempDir();
    const r = await apply(dir, [f('x', 'x', { xattrs: { 'user.strata': Buffer.from([1, 2, 250]) } })]);
    expect(r.skipped).toEqual([]);
    expect(readXattrs(join(dir, 'x'))?.['user.strata']?.toString('hex')).toBe('0102fa');
  });

  it.skipIf(!asRoot)('writes overlay whiteouts in overlay mode', async () => {
    const dir = tempDir();
    await apply(dir, [d('a'), f('a/.wh.x', ''), f('a/.wh..wh..opq', '')], { whiteouts: 'overlay' });
    const st = lstatSync(join(dir, 'a/x'));
    expect(st.isCharacterDevice() && st.rdev === 0).toBe(true);
  });
});

describe('applyLayer refuses hostile tars', () => {
  it(`has at least 15 distinct attacks (${HOSTILE_CASES.length})`, () => {
    expect(HOSTILE_CASES.filter((c) => c.entry).length).toBeGreaterThanOrEqual(15);
  });
  for (const c of HOSTILE_CASES) {
    it(`${c.name} (${c.origin})`, async () => {
      const { sandbox, target, outside, before } = hostileSandbox();
      const layers = c.layers(outside);
      let error: unknown;
      for (const [i, layer] of layers.entries()) {
        try {
          await applyLayer(target, Readable.from([await tarBytes(layer)]));
        } catch (err) {
          if (i < layers.length - 1) throw err;
          error = err;
        }
      }
      expect(hashTree(outside)).toBe(before);
      expect(readdirSync(sandbox).sort()).toEqual(['outside', 'target']);
      if (c.entry) {
        expect(isStrataError(error, 'UNSAFE_PATH'), String(error)).toBe(true);
        expect((error as Error).message).toContain(c.entry);
      } else {
        expect(error).toBeUndefined();
        if (c.replaced) expect(lstatSync(join(target, c.replaced)).isDirectory()).toBe(true);
      }
    });
  }
});

describe('writeTar with a base (splice)', () => {
  const sha = (d: string | Buffer) => createHash('sha256').update(d).digest('hex');
  const file = (path: string, data: string, mode = 0o644): TarWriteEntry => ({ path, type: 'file', mode, uid: 0, gid: 0, size: Buffer.byteLength(data), mtime: 7, data });
  const dir = (path: string, mtime = 7): TarWriteEntry => ({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime });
  const long = `d/${'long-name-'.repeat(12)}.txt`;
  const first = [dir('a'), file('a/1', 'one'), file('a/2', 'two'), dir('d'), file('d/gone', 'gone'), file(long, 'long'), file('d/na\u00efve', 'unicode'), file('z', 'zed')];

  it('copies every entry whose header and content are unchanged, past an added, a removed and a changed entry', async () => {
    const work = tempDir();
    const base = join(work, 'base.tar');
    writeFileSync(base, await tarBytes(first));
    const next = [dir('a', 9), file('a/0', 'new'), file('a/1', 'one'), file('a/2', 'two', 0o600), dir('d'), file(long, 'long'), file('d/na\u00efve', 'unicode'), file('z', 'zed')];
    const stats = { spliced: 0, read: 0 };
    const chunks: Buffer[] = [];
    for await (const c of writeTar(next, { base, stats, contentHash: (e) => sha(e.data as string) })) chunks.push(Buffer.from(c));
    // a/1, the long (PAX) name, the non-ASCII (PAX) name and z come from the base; a/0 is new and a/2's mode changed
    expect(stats).toEqual({ spliced: 4, read: 2, fileBytes: 3 + 3 + 3 + 4 + 7 + 3 });
    expect(Buffer.concat(chunks).equals(await tarBytes(next))).toBe(true);
  });

  it('copies nothing whose content hash is not the one given', async () => {
    const work = tempDir();
    const base = join(work, 'base.tar');
    writeFileSync(base, await tarBytes(first));
    const stats = { spliced: 0, read: 0 };
    const chunks: Buffer[] = [];
    for await (const c of writeTar(first, { base, stats, contentHash: (e) => (e.path === 'z' ? sha('other') : sha(e.data as string)) })) chunks.push(Buffer.from(c));
    expect(stats).toEqual({ spliced: 5, read: 1, fileBytes: 3 + 3 + 4 + 4 + 7 + 3 });
    expect(Buffer.concat(chunks).equals(await tarBytes(first))).toBe(true);
  });
});

describe('openTarFile seek', () => {
  it('reads on from where an entry ended, PAX records of the next entry included', async () => {
    const dir = tempDir();
    const file = join(dir, 'l.tar');
    const e = (path: string, data: string, mtime = 5): TarWriteEntry => ({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, size: data.length, mtime, data });
    // b has a PAX header (a sub-second mtime) ahead of its own
    writeFileSync(file, await tarBytes([e('a', 'x'.repeat(600)), e('b', 'yy', 5.5), e('c', 'z')]));
    const c = openTarFile(file);
    try {
      const all = [c.next()!, c.next()!, c.next()!];
      expect(c.next()).toBeUndefined();
      c.seek(all[0].end);
      const b = c.next()!;
      expect([b.entry.path, b.entry.mtime, b.start, b.offset]).toEqual(['b', 5.5, all[1].start, all[1].offset]);
      c.seek(0);
      expect(c.next()!.entry.path).toBe('a');
      c.seek(all[2].end);
      expect(c.next()).toBeUndefined();
    } finally {
      c.close();
    }
  });
});

describe('tarFileBytes', () => {
  /** The same sum the slow way: every entry decoded by openTarFile. */
  const decodedSum = (file: string) => {
    const c = openTarFile(file, { clean: false });
    let n = 0;
    try {
      for (let x = c.next(); x !== undefined; x = c.next()) if (x.entry.type === 'file') n += x.entry.size;
    } finally {
      c.close();
    }
    return n;
  };

  it('sums regular files as the full reader does: GNU long names, PAX (global too), links, empty files', async () => {
    const dir = tempDir();
    const src = join(dir, 'src');
    writeTree(src, {
      'a.txt': 'hello',
      'empty': '',
      'd/b.bin': { content: Buffer.alloc(70001, 1) },
      'l': { symlink: 'a.txt' },
      'h': { hardlink: 'a.txt' },
      ['n'.repeat(180)]: 'long name',
      ['deep/'.repeat(40) + 'f']: 'x'.repeat(513),
      'caf\u00e9': 'unicode',
    });
    const tars = {
      gnu: ['--format=gnu'],
      pax: ['--format=posix'],
      // a global PAX header ahead of every entry
      paxGlobal: ['--format=posix', '--pax-option=globexthdr.name=g,comment=strata'],
      ustarish: ['--format=oldgnu'],
    };
    for (const [name, args] of Object.entries(tars)) {
      const file = join(dir, `${name}.tar`);
      execFileSync('tar', ['-C', src, ...args, '-cf', file, '.']);
      const want = 5 + 70001 + 9 + 513 + 7;
      expect(decodedSum(file), name).toBe(want);
      expect(tarFileBytes(file), name).toBe(want);
    }
  });

  it('takes a PAX size record over the header, per entry and globally', () => {
    const dir = tempDir();
    /** A ustar header block with a valid checksum. */
    const header = (name: string, size: number, flag: string) => {
      const h = Buffer.alloc(512);
      h.write(name, 0);
      h.write('0000644\0', 100);
      h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
      h.write('00000000000\0', 136);
      h.write(flag, 156);
      h.write('ustar\x0000', 257, 'latin1');
      h.fill(0x20, 148, 156);
      let sum = 0;
      for (const b of h) sum += b;
      h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
      return h;
    };
    const record = (k: string, v: string) => {
      const body = ` ${k}=${v}\n`;
      let len = body.length + 2;
      if (String(len).length + body.length !== len) len = String(len + 1).length + body.length;
      return `${len}${body}`;
    };
    const padded = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
    const pax = (flag: string, recs: string) => Buffer.concat([header('PaxHeaders/x', recs.length, flag), padded(Buffer.from(recs))]);
    // the header says 0 bytes; the record says 600: 600 bytes of data follow
    const file = join(dir, 'pax-size.tar');
    writeFileSync(file, Buffer.concat([
      pax('x', record('size', '600')), header('a', 0, '0'), padded(Buffer.alloc(600, 1)),
      header('b', 3, '0'), padded(Buffer.from('abc')),
      pax('g', record('size', '10')), header('c', 0, '0'), padded(Buffer.alloc(10, 2)),
      header('s', 0, '2'), padded(Buffer.alloc(10)),
      Buffer.alloc(1024),
    ]));
    expect(decodedSum(file)).toBe(600 + 3 + 10);
    expect(tarFileBytes(file)).toBe(600 + 3 + 10);
  });

  it("is what writeTar counts as it writes (stats.fileBytes), set once the tar is whole", async () => {
    const dir = tempDir();
    const e = (path: string, type: TarWriteEntry['type'], size = 0, extra: Partial<TarWriteEntry> = {}): TarWriteEntry => ({ path, type, mode: 0o644, uid: 0, gid: 0, size, mtime: 5, ...extra });
    const entries = [
      e('d', 'dir'),
      e('d/a', 'file', 2_500_001, { data: Buffer.alloc(2_500_001, 3) }),
      e('d/empty', 'file', 0, { data: '' }),
      e('d/h', 'hardlink', 0, { linkname: 'd/a' }),
      e('d/s', 'symlink', 0, { linkname: 'a' }),
      e(`d/${'long-'.repeat(40)}`, 'file', 513, { data: Buffer.alloc(513, 1) }),
      e('d/dev', 'char', 0, { devmajor: 1, devminor: 3 }),
    ];
    const stats: { spliced: number; read: number; fileBytes?: number } = { spliced: 0, read: 0 };
    const chunks: Buffer[] = [];
    for await (const c of writeTar(entries, { stats })) {
      if (chunks.length === 0) expect(stats.fileBytes).toBeUndefined(); // not before the end
      chunks.push(Buffer.from(c));
    }
    writeFileSync(join(dir, 'out.tar'), Buffer.concat(chunks));
    expect(chunks.length).toBeGreaterThan(1);
    expect(stats.fileBytes).toBe(2_500_001 + 513);
    expect(tarFileBytes(join(dir, 'out.tar'))).toBe(stats.fileBytes);
  });

  it('refuses what is not a tar, a truncated one and a size past the end', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'noise'), Buffer.alloc(2048, 7));
    expect(() => tarFileBytes(join(dir, 'noise'))).toThrow(/checksum/);
    const good = await tarBytes([{ path: 'big', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 5000, mtime: 0, data: Buffer.alloc(5000, 2) }]);
    writeFileSync(join(dir, 'cut'), good.subarray(0, 2048));
    expect(() => tarFileBytes(join(dir, 'cut'))).toThrow(/truncated/);
    writeFileSync(join(dir, 'half-header'), good.subarray(0, 300));
    expect(() => tarFileBytes(join(dir, 'half-header'))).toThrow(/truncated/);
    writeFileSync(join(dir, 'empty'), Buffer.alloc(0));
    expect(tarFileBytes(join(dir, 'empty'))).toBe(0);
  });
});
