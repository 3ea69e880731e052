// HTTP_PROXY / NO_PROXY: registry requests (and ADD <url> downloads, on the same transport) go
// through a forward proxy on loopback when one is set, and straight to the host NO_PROXY names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { cleanupTempDirs, peerAvailable, startRegistry, tempDir, type RegistryServer } from '@strata/testing';
import { storeWithBusybox, strataOk } from './helpers';

const ready = peerAvailable('docker-registry');

/** A forward proxy (CONNECT tunnels, as undici uses, and absolute-form requests), recording what it forwarded. */
async function forwardProxy(): Promise<{ url: string; seen: string[]; server: Server }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? '/');
    if (target.hostname !== '127.0.0.1') {
      res.writeHead(403).end();
      return;
    }
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: `${target.pathname}${target.search}`, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connect', (req, client, head) => {
    seen.push(`CONNECT ${req.url}`);
    const [host, port] = (req.url ?? '').split(':');
    if (host !== '127.0.0.1') {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const up = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen, server };
}

describe.skipIf(!ready)('proxies', () => {
  let reg: RegistryServer;
  let proxy: Awaited<ReturnType<typeof forwardProxy>>;
  let dir: string;

  beforeAll(async () => {
    dir = tempDir('strata-proxy-');
    reg = await startRegistry('plain', join(dir, 'registry'));
    proxy = await forwardProxy();
    await storeWithBusybox(join(dir, 'src'), 'bb:1');
    await strataOk(['push', 'bb:1', `${reg.host}/proxied/bb:1`], join(dir, 'src'), { TZ: 'UTC' });
  });
  afterAll(async () => {
    await new Promise<void>((r) => proxy?.server.close(() => r()));
    await reg?.stop();
    cleanupTempDirs();
  });

  it('HTTP_PROXY carries the pull; NO_PROXY sends it direct', async () => {
    await strataOk(['pull', '-q', `${reg.host}/proxied/bb:1`], join(dir, 'a'), { TZ: 'UTC', HTTP_PROXY: proxy.url, NO_PROXY: '' });
    // undici tunnels through the proxy (CONNECT), even to an http registry
    expect(proxy.seen.filter((s) => s === `CONNECT ${reg.host}` || s.startsWith(`GET http://${reg.host}/`)).length).toBeGreaterThan(0);
    const n = proxy.seen.length;
    await strataOk(['pull', '-q', `${reg.host}/proxied/bb:1`], join(dir, 'b'), { TZ: 'UTC', HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' });
    expect(proxy.seen.length).toBe(n);
  });
});
