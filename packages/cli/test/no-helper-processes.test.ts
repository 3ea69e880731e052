// strata reads and writes zstd streams and extended attributes in process (zstd-napi,
// @napi-rs/xattr): no python3 and no zstd program runs, whatever a build or a load does. The
// commands run under a PATH that has every program of the machine but those two, plus shims of
// them that record a call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compress, readAll } from '@strata/layer';
import { readTar, writeTar, type TarWriteEntry } from '@strata/tar';
import { busyboxRootfsTar, cleanupTempDirs, peerAvailable, REPO_ROOT, runStrata, tempDir } from '@strata/testing';

afterAll(cleanupTempDirs);

const FORBIDDEN = /^(python3?(\.\d+)?|zstd(cat|mt)?|unzstd|pzstd)$/;

/** A bin directory with every program of the machine's PATH except the forbidden ones, which are shims that log. */
function pathWithout(log: string): string {
  const bin = join(tempDir(), 'bin');
  mkdirSync(bin);
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir || !existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (FORBIDDEN.test(name) || existsSync(join(bin, name))) continue;
      symlinkSync(join(dir, name), join(bin, name));
    }
  }
  for (const name of ['python3', 'python', 'zstd', 'unzstd', 'zstdcat']) {
    writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >> ${log}\nexit 97\n`, { mode: 0o755 });
  }
  return bin;
}

/** The busybox rootfs plus a file with extended attributes, as one zstd-compressed tar. */
async function rootfsWithXattrs(): Promise<Buffer> {
  const entries = async function* (): AsyncGenerator<TarWriteEntry> {
    for await (const { entry, body } of readTar(createReadStream(busyboxRootfsTar()) as AsyncIterable<Uint8Array>)) {
      const data = Buffer.concat(await readAllChunks(body));
      if (entry.path === '.') continue;
      yield { ...entry, ...(entry.type === 'file' ? { data } : {}) };
    }
    yield { path: 'xfile', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 3, mtime: 1_700_000_000, data: 'x\n\n', xattrs: { 'user.strata.test': Buffer.from([1, 2, 250]) } };
  };
  return readAll(compress(writeTar(entries()), 'zstd'));
}

async function readAllChunks(body: AsyncIterable<Uint8Array>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of body) out.push(Buffer.from(c));
  return out;
}

describe.skipIf(!peerAvailable('runc') && !peerAvailable('crun'))('no python3 or zstd process', () => {
  let root: string;
  let log: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    root = join(tempDir(), 'root');
    log = join(tempDir(), 'calls.log');
    env = { PATH: pathWithout(log) };
  });

  it('import of a zstd rootfs with xattrs, a RUN build on it, a zstd OCI save and its load', async () => {
    const rootfs = join(tempDir(), 'rootfs.tar.zst');
    writeFileSync(rootfs, await rootfsWithXattrs());
    const imp = await runStrata(['image', 'import', rootfs, 'xattr-base:1'], { root, env });
    expect(imp.code, imp.stderr).toBe(0);
    const ctx = join(tempDir(), 'ctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM xattr-base:1\nRUN cat /xfile > /copy && touch /new\nRUN cp -a /xfile /xfile2 || cp /xfile /xfile2\n');
    const b = await runStrata(['build', '-q', '-t', 'xattr-built:1', ctx], { root, env });
    expect(b.code, b.stderr).toBe(0);
    const oci = join(tempDir(), 'image.oci.tar');
    const save = await runStrata(['image', 'save', '--format', 'oci', '--compress', 'zstd', '-o', oci, 'xattr-built:1'], { root, env });
    expect(save.code, save.stderr).toBe(0);
    const root2 = join(tempDir(), 'root2');
    const load = await runStrata(['image', 'load', '-i', oci], { root: root2, env });
    expect(load.code, load.stderr).toBe(0);
    // The attribute survived the snapshot (set) and the RUN capture (read), and the zstd round trip.
    const exp = await runStrata(['image', 'export', 'xattr-built:1'], { root: root2, env });
    expect(exp.code, exp.stderr).toBe(0);
    const xattrs = new Map<string, string>();
    for await (const { entry, body } of readTar((async function* () { yield exp.stdout; })())) {
      for await (const _ of body) void _;
      if (entry.xattrs) xattrs.set(entry.path, Object.entries(entry.xattrs).map(([k, v]) => `${k}=${v.toString('hex')}`).join(','));
    }
    expect(xattrs.get('xfile')).toBe('user.strata.test=0102fa');
    expect(existsSync(log) ? readFileSync(log, 'utf8') : '').toBe('');
  });
});

describe('no source spawns python3 or zstd by absolute path either', () => {
  it('packages/*/src name neither program', () => {
    const hits: string[] = [];
    const walk = (dir: string) => {
      for (const d of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, d.name);
        if (d.isDirectory()) walk(p);
        else if (p.endsWith('.ts') && !p.endsWith('.test.ts') && /python3|(spawn|spawnSync|execFile|execFileSync|exec|execSync)\(\s*['"`](\/usr\/bin\/)?zstd/.test(readFileSync(p, 'utf8'))) hits.push(p.slice(REPO_ROOT.length));
      }
    };
    for (const pkg of readdirSync(join(REPO_ROOT, 'packages'))) if (existsSync(join(REPO_ROOT, 'packages', pkg, 'src'))) walk(join(REPO_ROOT, 'packages', pkg, 'src'));
    expect(hits).toEqual([]);
  });
});
