// Registry answers found mishandled by the reliability fuzzing (tools/reliability, issue 18), and
// the hostile sources of its item 6 at the library level: each ends in one coded, one-line error,
// quickly, and a registry cannot steer strata off to a file: URL or a private address (checked
// before connecting: only loopback is ever dialled here).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StrataError } from '@strata/errors';
import { sha256 } from '@strata/oci';
import { openRegistries, type Registries } from '../src';
import { addressClass, refusedHop } from '../src/names';

type Answer = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let host = '';
let answer: Answer = (_req, res) => res.end();
const dialled: string[] = [];
const onConnect = (m: unknown) => {
  const p = (m as { connectParams?: { hostname?: string } }).connectParams;
  dialled.push(p?.hostname ?? '?');
};

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    res.on('error', () => undefined);
    if (req.url === '/v2/' && !req.headers['x-no-ping']) {
      answer(req, res);
      return;
    }
    answer(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  subscribe('undici:client:beforeConnect', onConnect);
});
afterAll(async () => {
  unsubscribe('undici:client:beforeConnect', onConnect);
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

let registries: Registries;
afterEach(async () => registries?.close());

function open(): Registries {
  registries = openRegistries({ env: {}, credentials: async () => undefined, retries: 0, sleep: async () => undefined });
  return registries;
}

/** Serve `/v2/` as a registry without auth, everything else by `rest`. */
function serve(rest: Answer): void {
  answer = (req, res) => (req.url === '/v2/' ? res.end('{}') : rest(req, res));
}

function endless(res: ServerResponse): void {
  const chunk = Buffer.alloc(64 * 1024, 0x7b);
  const pump = () => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once('drain', pump);
  };
  pump();
}

async function failure(p: Promise<unknown>): Promise<StrataError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StrataError);
  expect((err as StrataError).message).not.toMatch(/[\r\n]/);
  return err as StrataError;
}

describe('token servers', () => {
  it.each([
    ['null', 'sent no token'],
    ['{"token":{"a":1}}', 'not one printable word'],
    ['{"token":"a\\r\\nX-Evil: 1"}', 'not one printable word'],
    ['[]', 'sent no token'],
    ['not json', 'not JSON'],
  ])('%s is AUTH_FAILED', async (body, says) => {
    answer = (req, res) => {
      if (req.url === '/v2/' || req.url?.startsWith('/v2/a/')) {
        res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="x"` });
        return void res.end();
      }
      res.end(body);
    };
    const err = await failure(open().repository(host, 'a').manifest('1'));
    expect(err.code).toBe('AUTH_FAILED');
    expect(err.message).toContain(says);
  });

  it('a realm at a link-local address (cloud metadata) is refused without connecting', async () => {
    answer = (_req, res) => {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="http://169.254.169.254/latest/meta-data/",service="x"' });
      res.end();
    };
    dialled.length = 0;
    const err = await failure(open().repository(host, 'a').manifest('1'));
    expect(err.code).toBe('AUTH_FAILED');
    expect(err.message).toMatch(/refusing a token realm at a link-local address/);
    expect(dialled.every((h) => h === '127.0.0.1')).toBe(true);
  });
});

describe('bodies without end', () => {
  it('an endless manifest is refused after 4 MiB', async () => {
    serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
      endless(res);
    });
    const err = await failure(open().repository(host, 'a').manifest('1'));
    expect(err.code).toBe('INVALID_MANIFEST');
    expect(err.message).toMatch(/larger than 4 MiB/);
  });

  it('a manifest announced at 100 MB is refused before it is read', async () => {
    let sent = 0;
    serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': String(100 << 20) });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (!res.destroyed && sent < 100 << 20 && res.write(chunk)) sent += chunk.length;
        if (!res.destroyed && sent < 100 << 20) res.once('drain', pump);
      };
      pump();
    });
    const err = await failure(open().repository(host, 'a').manifest('1'));
    expect(err.code).toBe('INVALID_MANIFEST');
    expect(sent).toBeLessThan(20 << 20);
  });

  it('an endless blob stops at its descriptor size', async () => {
    serve((_req, res) => endless(res));
    const digest = sha256('x');
    let got = 0;
    const err = await failure(
      (async () => {
        for await (const c of open().repository(host, 'a').blob(digest, { size: 1000 })) got += c.length;
      })(),
    );
    expect(err.code).toBe('SIZE_MISMATCH');
    expect(got).toBeLessThanOrEqual(1000);
  });

  it('an endless error body gives a short one-line message', async () => {
    serve((_req, res) => {
      res.writeHead(500);
      res.write('<html>\n<body>\u001b[2J bad\n');
      endless(res);
    });
    const err = await failure(open().repository(host, 'a').manifest('1'));
    expect(err.code).toBe('REGISTRY_ERROR');
    expect(err.message.length).toBeLessThan(400);
  });
});

describe('tag lists', () => {
  it.each(['null', 'nope', '{"tags":[1,{}]}', '{"tags":"x"}'])('%s is REGISTRY_ERROR', async (body) => {
    serve((_req, res) => res.end(body));
    const err = await failure(open().repository(host, 'a').tags());
    expect(err.code).toBe('REGISTRY_ERROR');
  });
});

describe('redirects and links', () => {
  it.each([
    ['file:///etc/passwd', /a file: URL/],
    ['http://10.0.0.1/v2/a/blobs/x', /a private address/],
    ['https://169.254.169.254/latest/meta-data/', /a link-local address/],
    ['http://[fd00::1]/x', /a private address/],
    ['http://0.0.0.0:1/x', /an? unspecified address/],
  ])('a redirect to %s is refused without connecting', async (location, says) => {
    serve((_req, res) => {
      res.writeHead(307, { location });
      res.end();
    });
    dialled.length = 0;
    const err = await failure(open().repository(host, 'a').manifest('1'));
    expect(err.code).toBe('REGISTRY_ERROR');
    expect(err.message).toMatch(says);
    expect(dialled.every((h) => h === '127.0.0.1')).toBe(true);
  });

  it('a Link to a private address is refused', async () => {
    serve((_req, res) => {
      res.writeHead(200, { link: '<http://192.168.1.1:5000/v2/a/tags/list?last=x>; rel="next"' });
      res.end('{"tags":["1"]}');
    });
    dialled.length = 0;
    const err = await failure(open().repository(host, 'a').tags());
    expect(err.code).toBe('REGISTRY_ERROR');
    expect(dialled.every((h) => h === '127.0.0.1')).toBe(true);
  });

  // found by the long fuzz run: a Link that is no http(s) URL was a TypeError (Invalid URL)
  it.each(['file:///etc/passwd', 'x y', '::'])('a Link to %j is REGISTRY_ERROR', async (link) => {
    serve((_req, res) => {
      res.writeHead(200, { link: `<${link}>; rel="next"` });
      res.end('{"tags":["1"]}');
    });
    expect((await failure(open().repository(host, 'a').tags())).code).toBe('REGISTRY_ERROR');
  });

  it('a redirect to the same loopback registry is followed', async () => {
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {}, layers: [] }));
    serve((req, res) => {
      if (req.url === '/v2/a/manifests/1') {
        res.writeHead(307, { location: `http://localhost:${host.split(':')[1]}/elsewhere` });
        return void res.end();
      }
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
      res.end(manifest);
    });
    expect((await open().repository(host, 'a').manifest('1')).digest).toBe(sha256(manifest));
  });
});

describe('credentials and redirects', () => {
  it('the registry\'s Authorization is sent to it, never to the origin a redirect leads to', async () => {
    // blob storage on another loopback origin (another port), as registries redirect to S3 or a CDN
    const seenElsewhere: Array<string | undefined> = [];
    const storage = createServer((req, res) => {
      seenElsewhere.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end('blob bytes');
    });
    await new Promise<void>((r) => storage.listen(0, '127.0.0.1', r));
    const storageHost = `localhost:${(storage.address() as AddressInfo).port}`;
    const seenAtRegistry: Array<string | undefined> = [];
    const blob = Buffer.from('blob bytes');
    answer = (req, res) => {
      seenAtRegistry.push(req.headers.authorization);
      if (!req.headers.authorization) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' });
        return void res.end();
      }
      if (req.url === '/v2/') return void res.end('{}');
      res.writeHead(307, { location: `http://${storageHost}/signed/${sha256(blob).slice(7)}?sig=x` });
      res.end();
    };
    try {
      registries = openRegistries({ env: {}, credentials: async () => ({ username: 'user', password: 'secret' }), retries: 0, sleep: async () => undefined });
      const chunks: Buffer[] = [];
      for await (const c of registries.repository(host, 'a').blob(sha256(blob))) chunks.push(Buffer.from(c));
      expect(Buffer.concat(chunks).toString()).toBe('blob bytes');
      const basic = `Basic ${Buffer.from('user:secret').toString('base64')}`;
      expect(seenAtRegistry).toContain(basic);
      expect(seenElsewhere.length).toBeGreaterThan(0);
      expect(seenElsewhere.every((a) => a === undefined)).toBe(true);
    } finally {
      storage.closeAllConnections();
      await new Promise<void>((r) => storage.close(() => r()));
    }
  });
});

describe('refusedHop', () => {
  const u = (s: string) => new URL(s);
  it.each([
    ['https://registry.example', 'https://s3.example/x', undefined],
    ['https://registry.example', 'http://127.0.0.1:5000/x', 'a loopback address, from a non-local registry'],
    ['https://registry.example', 'https://10.1.2.3/x', 'a private address, from a non-local registry'],
    ['https://registry.example', 'https://[::ffff:192.168.0.1]/x', 'a private address, from a non-local registry'],
    ['https://registry.example', 'https://0x7f.1/x', 'a loopback address, from a non-local registry'],
    ['http://127.0.0.1:5000', 'http://localhost:6000/x', undefined],
    ['http://10.0.0.5:5000', 'http://10.0.0.6/x', undefined],
    ['http://127.0.0.1:5000', 'http://[fe80::1]/x', 'a link-local address'],
    ['http://127.0.0.1:5000', 'ftp://127.0.0.1/x', 'a ftp: URL'],
  ])('%s → %s', (from, to, why) => {
    expect(refusedHop(u(from), u(to))).toBe(why);
  });
  it('classes by IP literal only', () => {
    expect(addressClass('172.16.0.1:80')).toBe('private');
    expect(addressClass('172.32.0.1')).toBe('public');
    expect(addressClass('[::1]:5000')).toBe('loopback');
    expect(addressClass('ghcr.io')).toBe('public');
  });
});
