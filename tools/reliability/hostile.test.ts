// Hostile sources (issue 18, item 6), through the built `strata` against a lying registry on
// 127.0.0.1 (hostile-registry.ts): a gzip bomb into a store on a small tmpfs, a 100 MB manifest,
// endless manifest and blob bodies, redirects and token realms aimed at a file: URL or private
// addresses, layers of many whiteouts and many entries. Each must end in one coded one-line
// error, or complete, within bounded memory: the peak RSS of the strata process is measured
// (process.resourceUsage().maxRSS at its exit, through a --require preload).
//
// Only loopback is ever dialled: strata runs with its proxy variables pointed at a listener here
// that counts what reaches it, so a request to any other host would be seen, not sent.
// CI runs small sizes; STRATA_RELIABILITY=full the sizes of the issue. With STRATA_RELIABILITY_OUT
// set, the rows go to hostile.json there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer, type Server as TcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, STRATA_BIN } from '@strata/testing';
import { writeTar, type TarWriteEntry } from '@strata/tar';
import { gzLayer, honestLayers, servedLayers, startHostileRegistry, type GzLayer, type Handler, type HostileRegistry } from './hostile-registry';

const FULL = process.env.STRATA_RELIABILITY === 'full';
const OUT = process.env.STRATA_RELIABILITY_OUT;
const MiB = 1 << 20;
const SIZES = FULL
  ? { bomb: 4096 * MiB, tmpfs: 64 * MiB, manifest: 100 * MiB, whiteouts: 100_000, entries: 1_000_000 }
  : { bomb: 256 * MiB, tmpfs: 32 * MiB, manifest: 100 * MiB, whiteouts: 10_000, entries: 50_000 };
/** No case may make strata hold more than this (a bound far below any of the inputs' sizes). */
const RSS_BOUND_MB = FULL ? 1024 : 400;
/** Per case: the full sizes take minutes on a loaded machine. */
const TIMEOUT = FULL ? 1_200_000 : 120_000;

interface Row {
  case: string;
  ran: number;
  failed: number;
  note?: string;
}
const rows: Row[] = [];

let work: string;
let reg: HostileRegistry;
let proxy: TcpServer;
let proxied = 0;
let preload: string;
const T = 1_700_000_000;
const REPO = 'hostile/img';

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'strata-hostile-'));
  preload = join(work, 'rss.cjs');
  writeFileSync(preload, "process.on('exit', () => require('node:fs').writeFileSync(process.env.STRATA_TEST_RSS_FILE, String(process.resourceUsage().maxRSS)));\n");
  reg = await startHostileRegistry(() => ({ status: 404 }));
  proxy = createTcpServer((s) => {
    proxied++;
    s.destroy();
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  await reg?.close();
  await new Promise<void>((r) => proxy?.close(() => r()));
  rmSync(work, { recursive: true, force: true });
  if (OUT) {
    mkdirSync(OUT, { recursive: true });
    const doc = {
      area: 'hostile sources',
      command: `STRATA_RELIABILITY=${FULL ? 'full' : 'quick'} npx vitest run tools/reliability/hostile.test.ts`,
      rows,
    };
    writeFileSync(join(OUT, 'hostile.json'), `${JSON.stringify(doc, null, 2)}\n`);
  }
});

interface Run {
  code: number | null;
  stderr: string;
  /** Peak RSS of the strata process, MB. */
  rssMb: number;
}

async function strata(root: string, args: string[]): Promise<Run> {
  const rssFile = join(work, `rss-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const r = await runCommand(process.execPath, ['--require', preload, STRATA_BIN, '--root', root, ...args], {
    env: {
      STRATA_TEST_RSS_FILE: rssFile,
      HTTP_PROXY: proxyUrl,
      HTTPS_PROXY: proxyUrl,
      http_proxy: proxyUrl,
      https_proxy: proxyUrl,
      NO_PROXY: '127.0.0.1,localhost,::1',
      no_proxy: '127.0.0.1,localhost,::1',
      TZ: 'UTC',
    },
  });
  let rssMb = NaN;
  try {
    rssMb = Math.round(Number(readFileSync(rssFile, 'utf8')) / 1024);
  } catch {
    // killed before its exit handler ran
  }
  return { code: r.code, stderr: r.stderr, rssMb };
}

/** The one error line strata printed (`strata: …`), checked to be the whole story. */
function errorLine(r: Run): string {
  const lines = r.stderr.split('\n').filter((l) => l && !l.startsWith('hint: '));
  const errs = lines.filter((l) => l.startsWith('strata: '));
  expect(errs, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  return errs[0];
}

function record(name: string, ok: boolean, note: string): void {
  // the registry's port changes from run to run; the figures should not
  rows.push({ case: name, ran: 1, failed: ok ? 0 : 1, note: note.split(reg.host).join('REGISTRY') });
}

async function layerOf(entries: Iterable<TarWriteEntry> | AsyncIterable<TarWriteEntry>): Promise<GzLayer> {
  return gzLayer(writeTar(entries));
}

function serveImage(layers: GzLayer[], patch?: (h: Handler) => Handler): void {
  const h = honestLayers(servedLayers(layers), REPO);
  reg.handler = patch ? patch(h) : h;
}

const ref = () => `${reg.host}/${REPO}:1`;

function freshRoot(name: string): string {
  const root = join(work, name);
  mkdirSync(root, { recursive: true });
  return root;
}

/** Runs `fn` with a store on a tmpfs of `bytes` (root can mount one here). */
async function onTmpfs<T>(name: string, bytes: number, fn: (root: string) => Promise<T>): Promise<T> {
  const dir = freshRoot(name);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]);
  try {
    return await fn(dir);
  } finally {
    execFileSync('umount', ['-l', dir]);
  }
}

async function* zeros(n: number): AsyncGenerator<Uint8Array> {
  const chunk = Buffer.alloc(MiB);
  for (let left = n; left > 0; left -= chunk.length) yield left >= chunk.length ? chunk : chunk.subarray(0, left);
}

const isRoot = process.getuid?.() === 0;

describe('hostile sources', () => {
  it.runIf(isRoot)(`a gzip bomb (${SIZES.bomb / MiB} MiB of zeros) into a store on a ${SIZES.tmpfs / MiB} MiB tmpfs: NO_SPACE`, async () => {
    const bomb = await layerOf([{ path: 'bomb', type: 'file', mode: 0o644, uid: 0, gid: 0, size: SIZES.bomb, mtime: T, open: () => zeros(SIZES.bomb) }]);
    serveImage([bomb]);
    const r = await onTmpfs('bomb', SIZES.tmpfs, (root) => strata(root, ['pull', ref()]));
    const line = errorLine(r);
    const ok = r.code === 2 && /no space left/.test(line) && r.rssMb < RSS_BOUND_MB;
    record(`gzip bomb: ${(bomb.gz.length / MiB).toFixed(1)} MiB gzip → ${SIZES.bomb / MiB} MiB, store on a ${SIZES.tmpfs / MiB} MiB tmpfs`, ok, `peak RSS ${r.rssMb} MB; ${line}`);
    expect(line).toMatch(/no space left/);
    expect(r.rssMb).toBeLessThan(RSS_BOUND_MB);
  }, TIMEOUT);

  it(`a manifest of ${SIZES.manifest / MiB} MB, announced and not: INVALID_MANIFEST after 4 MiB`, async () => {
    const body = Buffer.alloc(SIZES.manifest, 0x20);
    body.write('{"schemaVersion":2,"layers":[');
    for (const announced of [true, false]) {
      reg.sentBytes = 0;
      reg.handler = ({ path }) => {
        if (path === '/v2/') return { status: 200, body: '{}' };
        const type = { 'content-type': 'application/vnd.oci.image.manifest.v1+json' };
        return announced ? { status: 200, headers: { ...type, 'content-length': String(body.length) }, body } : { status: 200, headers: type, body: 'endless' };
      };
      const r = await strata(freshRoot(`manifest-${announced}`), ['pull', ref()]);
      const line = errorLine(r);
      const ok = r.code === 2 && /larger than 4 MiB/.test(line) && r.rssMb < RSS_BOUND_MB;
      const sent = `${(reg.sentBytes / MiB).toFixed(1)} MiB sent before strata hung up`;
      record(announced ? `manifest of ${SIZES.manifest / MiB} MB (Content-Length)` : 'manifest without end (chunked)', ok, `peak RSS ${r.rssMb} MB; ${announced ? '' : `${sent}; `}${line}`);
      expect(line).toMatch(/larger than 4 MiB/);
      expect(r.rssMb).toBeLessThan(RSS_BOUND_MB);
    }
  }, TIMEOUT);

  it('an endless blob (layer and config): SIZE_MISMATCH at its descriptor size', async () => {
    const layer = await layerOf([{ path: 'f', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 2, mtime: T, data: 'x\n' }]);
    const img = servedLayers([layer]);
    for (const which of ['layer', 'config'] as const) {
      const digest = which === 'layer' ? layer.digest : img.configDigest;
      const honest = honestLayers(img, REPO);
      reg.sentBytes = 0;
      reg.handler = (req) => (req.path.endsWith(digest) ? { status: 200, body: 'endless' } : honest(req));
      const r = await strata(freshRoot(`endless-${which}`), ['pull', ref()]);
      const line = errorLine(r);
      const ok = r.code === 2 && /more than its descriptor/.test(line) && r.rssMb < RSS_BOUND_MB;
      record(`endless ${which} blob`, ok, `peak RSS ${r.rssMb} MB; ${(reg.sentBytes / MiB).toFixed(1)} MiB sent before strata hung up; ${line}`);
      expect(line).toMatch(/more than its descriptor/);
    }
  }, TIMEOUT);

  it('redirects and token realms aimed off loopback: refused before connecting', async () => {
    const layer = await layerOf([{ path: 'f', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 2, mtime: T, data: 'x\n' }]);
    const img = servedLayers([layer]);
    const honest = honestLayers(img, REPO);
    const cases: Array<{ name: string; handler: Handler; says: RegExp }> = [
      { name: 'redirect of a blob to file:///etc/passwd', handler: (req) => (req.path.includes('/blobs/') ? { status: 307, headers: { location: 'file:///etc/passwd' } } : honest(req)), says: /refusing a redirect to a file: URL/ },
      { name: 'redirect of a blob to http://10.0.0.1/', handler: (req) => (req.path.includes('/blobs/') ? { status: 302, headers: { location: 'http://10.0.0.1/blob' } } : honest(req)), says: /refusing a redirect to a private address/ },
      { name: 'redirect of the manifest to https://169.254.169.254/ (cloud metadata)', handler: (req) => (req.path.includes('/manifests/') ? { status: 307, headers: { location: 'https://169.254.169.254/latest/meta-data/' } } : honest(req)), says: /refusing a redirect to a link-local address/ },
      { name: 'redirect to http://[fd00::1]/', handler: (req) => (req.path.includes('/manifests/') ? { status: 301, headers: { location: 'http://[fd00::1]:5000/v2/' } } : honest(req)), says: /refusing a redirect to a private address/ },
      {
        name: 'token realm at http://192.168.1.1/',
        handler: (req) => (req.path.startsWith('/v2/') ? { status: 401, headers: { 'www-authenticate': 'Bearer realm="http://192.168.1.1/token",service="x"' } } : honest(req)),
        says: /refusing a token realm at a private address/,
      },
    ];
    for (const c of cases) {
      reg.handler = c.handler;
      proxied = 0;
      const r = await strata(freshRoot(`redirect-${rows.length}`), ['pull', ref()]);
      const line = errorLine(r);
      const ok = r.code === 2 && c.says.test(line) && proxied === 0;
      record(c.name, ok, `${proxied} connections off loopback; ${line}`);
      expect(line).toMatch(c.says);
      expect(proxied).toBe(0);
    }
  }, TIMEOUT);

  it(`a layer of ${SIZES.whiteouts} whiteouts over ${SIZES.whiteouts} files: pulled and exported in bounded memory`, async () => {
    const n = SIZES.whiteouts;
    const base = await layerOf(
      (function* () {
        yield { path: 'd', type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: T } as TarWriteEntry;
        for (let i = 0; i < n; i++) yield { path: `d/f${i}`, type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: T } as TarWriteEntry;
      })(),
    );
    const top = await layerOf(
      (function* () {
        yield { path: 'd', type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: T } as TarWriteEntry;
        for (let i = 0; i < n; i++) yield { path: `d/.wh.f${i}`, type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: T } as TarWriteEntry;
        yield { path: 'kept', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 3, mtime: T, data: 'ok\n' } as TarWriteEntry;
      })(),
    );
    serveImage([base, top]);
    const root = freshRoot('whiteouts');
    const pull = await strata(root, ['pull', ref()]);
    expect(pull.stderr.split('\n').filter((l) => l.startsWith('strata: '))).toEqual([]);
    const out = join(work, 'whiteouts.tar');
    const exp = await strata(root, ['image', 'export', '-o', out, ref()]);
    const listing = exp.code === 0 ? execFileSync('tar', ['-tf', out], { maxBuffer: 1 << 26 }).toString().split('\n').filter(Boolean) : [];
    rmSync(out, { force: true });
    const ok = pull.code === 0 && exp.code === 0 && !listing.some((p) => /f\d/.test(p)) && listing.some((p) => /kept$/.test(p)) && Math.max(pull.rssMb, exp.rssMb) < RSS_BOUND_MB;
    record(`${n} whiteouts over ${n} files (pull, then export: all hidden)`, ok, `peak RSS pull ${pull.rssMb} MB, export ${exp.rssMb} MB${exp.code ? `; ${exp.stderr.trim()}` : ''}`);
    expect(pull.code, pull.stderr).toBe(0);
    expect(exp.code, exp.stderr).toBe(0);
    expect(listing.filter((p) => /f\d/.test(p))).toEqual([]);
    expect(Math.max(pull.rssMb, exp.rssMb)).toBeLessThan(RSS_BOUND_MB);
  }, TIMEOUT);

  it(`a layer of ${SIZES.entries} entries: pulled and exported in bounded memory`, async () => {
    const n = SIZES.entries;
    const layer = await layerOf(
      (function* () {
        for (let d = 0; d < Math.ceil(n / 1000); d++) {
          yield { path: `d${d}`, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: T } as TarWriteEntry;
          for (let i = 0; i < 1000 && d * 1000 + i < n; i++) yield { path: `d${d}/f${i}`, type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: T } as TarWriteEntry;
        }
      })(),
    );
    serveImage([layer]);
    const root = freshRoot('entries');
    const pull = await strata(root, ['pull', ref()]);
    const exp = await strata(root, ['image', 'export', '-o', '/dev/null', ref()]);
    const ok = pull.code === 0 && exp.code === 0 && Math.max(pull.rssMb, exp.rssMb) < RSS_BOUND_MB;
    record(`${n} entries in one layer (${(layer.tarSize / MiB).toFixed(0)} MiB tar; pull, then export)`, ok, `peak RSS pull ${pull.rssMb} MB, export ${exp.rssMb} MB${exp.code ? `; ${exp.stderr.trim()}` : ''}`);
    expect(pull.code, pull.stderr).toBe(0);
    expect(exp.code, exp.stderr).toBe(0);
    expect(Math.max(pull.rssMb, exp.rssMb)).toBeLessThan(RSS_BOUND_MB);
  }, TIMEOUT);
});
