// Faults through a proxy on loopback in front of the registry: a flipped byte in a blob and a
// wrong manifest digest fail with nothing committed (`store check` clean); a blob cut at 50%
// completes by a Range resume with ≤ 1.1× its bytes; 429 with Retry-After and 503 are retried;
// kill -9 mid-pull leaves the store consistent and a rerun completes.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { cleanupTempDirs, peerAvailable, runStrata, startRegistry, STRATA_BIN, tempDir, type RegistryServer } from '@strata/testing';
import { storeWithBusybox, strataOk } from './helpers';

const ready = peerAvailable('docker-registry');

type Fault = 'none' | 'flip' | 'wrong-digest' | 'cut' | 'throttle';

interface Proxy {
  host: string;
  fault: Fault;
  /** Body bytes sent per request path. */
  sent: Map<string, number>;
  /** Requests per path, with the Range header of each. */
  ranges: Map<string, Array<string | undefined>>;
  statuses: number[];
  server: Server;
}

/** A proxy on 127.0.0.1 that forwards to the registry and injects one kind of fault. */
async function startProxy(target: string): Promise<Proxy> {
  const p: Proxy = { host: '', fault: 'none', sent: new Map(), ranges: new Map(), statuses: [], server: undefined as unknown as Server };
  const cutDone = new Set<string>();
  const throttled = new Set<string>();
  p.server = createServer((req, res) => {
    const path = req.url ?? '/';
    const isBlob = /\/blobs\/sha256:/.test(path) && req.method === 'GET';
    const isManifest = /\/manifests\//.test(path) && req.method === 'GET';
    if (isBlob) p.ranges.set(path, [...(p.ranges.get(path) ?? []), req.headers.range]);
    if (p.fault === 'throttle' && (isManifest || isBlob) && !throttled.has(path)) {
      throttled.add(path);
      const status = isManifest ? 429 : 503;
      p.statuses.push(status);
      res.writeHead(status, isManifest ? { 'retry-after': '1', 'content-length': '0' } : { 'content-length': '0' });
      res.end();
      return;
    }
    const up = request({ host: '127.0.0.1', port: Number(target.split(':')[1]), method: req.method, path, headers: { ...req.headers, host: target } }, (r) => {
      const headers = { ...r.headers };
      if (p.fault === 'wrong-digest' && isManifest) headers['docker-content-digest'] = `sha256:${'0'.repeat(64)}`;
      res.writeHead(r.statusCode ?? 502, headers);
      const total = Number(r.headers['content-length'] ?? 0);
      let seen = 0;
      let flipped = false;
      r.on('data', (chunk: Buffer) => {
        let c = chunk;
        if (p.fault === 'flip' && isBlob && !flipped && seen + c.length > total / 2 && r.statusCode === 200) {
          c = Buffer.from(c);
          c[Math.max(0, Math.floor(total / 2) - seen)] ^= 0xff;
          flipped = true;
        }
        if (p.fault === 'cut' && isBlob && !cutDone.has(path) && r.statusCode === 200 && total > 4096 && seen + c.length >= total / 2) {
          const keep = Math.floor(total / 2) - seen;
          res.write(c.subarray(0, keep));
          p.sent.set(path, (p.sent.get(path) ?? 0) + keep);
          cutDone.add(path);
          r.destroy();
          res.socket?.destroy();
          return;
        }
        seen += c.length;
        p.sent.set(path, (p.sent.get(path) ?? 0) + c.length);
        res.write(c);
      });
      r.on('end', () => res.end());
      r.on('error', () => res.destroy());
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => p.server.listen(0, '127.0.0.1', resolve));
  p.host = `127.0.0.1:${(p.server.address() as { port: number }).port}`;
  return p;
}

describe.skipIf(!ready)('registry faults through a loopback proxy', () => {
  let reg: RegistryServer;
  let proxy: Proxy;
  let dir: string;
  let n = 0;
  const env = { TZ: 'UTC' };
  const fresh = () => join(dir, `store-${++n}`);
  const image = () => `${proxy.host}/faults/bb:1`;

  beforeAll(async () => {
    dir = tempDir('strata-faults-');
    reg = await startRegistry('plain', join(dir, 'registry'));
    proxy = await startProxy(reg.host);
    await storeWithBusybox(join(dir, 'src'), 'bb:1');
    await strataOk(['push', 'bb:1', `${reg.host}/faults/bb:1`], join(dir, 'src'), env);
  });
  beforeEach(() => {
    proxy.fault = 'none';
    proxy.sent.clear();
  });
  afterAll(async () => {
    await new Promise<void>((r) => proxy?.server.close(() => r()));
    await reg?.stop();
    cleanupTempDirs();
  });

  async function expectNothingCommitted(root: string): Promise<void> {
    const index = existsSync(join(root, 'index.json')) ? JSON.parse(readFileSync(join(root, 'index.json'), 'utf8')).manifests : [];
    expect(index).toEqual([]);
    if (existsSync(root)) {
      const check = await runStrata(['store', 'check'], { root });
      expect(check.code).toBe(0);
    }
  }

  it('a flipped byte in a blob: DIGEST_MISMATCH, nothing committed', async () => {
    proxy.fault = 'flip';
    const root = fresh();
    const r = await runStrata(['pull', image()], { root, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^strata: .*(hashes to|corrupt)/m);
    await expectNothingCommitted(root);
  });

  it('a wrong manifest digest: refused, nothing committed', async () => {
    proxy.fault = 'wrong-digest';
    const root = fresh();
    const r = await runStrata(['pull', image()], { root, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^strata: manifest .* the registry says sha256:0{64}$/m);
    await expectNothingCommitted(root);
  });

  it('a blob cut at 50% completes through a Range resume, ≤ 1.1× its bytes', async () => {
    proxy.fault = 'cut';
    const root = fresh();
    await strataOk(['pull', '-q', image()], root, env);
    const layer = [...proxy.sent.entries()].sort((a, b) => b[1] - a[1])[0];
    const size = (JSON.parse((await strataOk(['image', 'inspect', `docker://${image()}`], root, env)).out) as { LayersData: Array<{ Size: number }> }).LayersData[0].Size;
    // cut once, then asked again from where it stopped
    const ranges = proxy.ranges.get(layer[0])!;
    expect(ranges.length).toBe(2);
    expect(ranges[0]).toBeUndefined();
    const from = Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(Math.floor(size / 2));
    expect(layer[1]).toBeGreaterThanOrEqual(size);
    expect(layer[1]).toBeLessThanOrEqual(size * 1.1);
    expect((await runStrata(['store', 'check'], { root })).code).toBe(0);
  });

  it('429 with Retry-After and 503 are retried', async () => {
    proxy.fault = 'throttle';
    const root = fresh();
    await strataOk(['pull', '-q', image()], root, env);
    expect(proxy.statuses).toContain(429);
    expect(proxy.statuses).toContain(503);
  });

  it('kill -9 mid-pull leaves the store consistent; a rerun completes', async () => {
    const root = fresh();
    const pauseFile = join(dir, 'paused');
    const child = spawn(process.execPath, [STRATA_BIN, '--root', root, 'pull', '-q', image()], {
      env: { ...process.env, ...env, STRATA_TEST_PAUSE_AT: 'layer-moved:1', STRATA_TEST_PAUSE_FILE: pauseFile },
      stdio: 'ignore',
    });
    for (let i = 0; i < 300 && !existsSync(pauseFile); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(pauseFile)).toBe(true);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const check = await runStrata(['store', 'check'], { root });
    expect(check.code).toBe(0);
    await strataOk(['pull', '-q', image()], root, env);
    expect((await runStrata(['store', 'check'], { root })).code).toBe(0);
    expect((await strataOk(['image', 'ls', '-q'], root, env)).out.trim()).not.toBe('');
  });
});
