// A registry that lies, on 127.0.0.1 only: each request is answered by a handler the test
// sets (any status, headers, body; an endless body; a redirect anywhere), and every
// connection undici tries to open is recorded, so a test can show none left loopback.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { sha256, type Digest } from '@strata/oci';
import { writeTar } from '@strata/tar';

export interface Reply {
  status: number;
  headers?: Record<string, string | string[]>;
  /** Bytes; `endless` streams zeros until the client hangs up (counted in `sentBytes`). */
  body?: Buffer | string | 'endless';
}

export type Handler = (req: { method: string; path: string; headers: IncomingMessage['headers']; host: string }) => Reply;

export interface HostileRegistry {
  /** `127.0.0.1:PORT` */
  readonly host: string;
  readonly port: number;
  handler: Handler;
  /** `METHOD path` of every request served. */
  readonly requests: string[];
  /** Bytes of endless bodies written so far. */
  sentBytes: number;
  close(): Promise<void>;
}

export async function startHostileRegistry(handler: Handler): Promise<HostileRegistry> {
  const reg = { handler, requests: [] as string[], sentBytes: 0 } as HostileRegistry & { handler: Handler };
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    reg.requests.push(`${req.method} ${req.url}`);
    // drain what the client sends (uploads) before answering
    req.resume();
    let reply: Reply;
    try {
      reply = reg.handler({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, host: reg.host });
    } catch (err) {
      reply = { status: 500, body: String(err) };
    }
    const endless = reply.body === 'endless';
    try {
      res.writeHead(reply.status, reply.headers);
    } catch {
      // a header the fuzzer made that node refuses to send: send none
      res.writeHead(reply.status >= 200 && reply.status < 600 ? reply.status : 500);
    }
    if (req.method === 'HEAD') return void res.end();
    if (!endless) return void res.end(reply.body as Buffer | string | undefined);
    const chunk = Buffer.alloc(64 * 1024);
    const pump = () => {
      while (!res.destroyed) {
        reg.sentBytes += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
    };
    res.on('error', () => undefined);
    pump();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  Object.assign(reg, {
    host: `127.0.0.1:${port}`,
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
  return reg;
}

/** Every host:port undici opens a connection to while `watch` is on (through its diagnostics channel). */
export function watchConnections(): { readonly hosts: string[]; stop(): void } {
  const hosts: string[] = [];
  const onConnect = (msg: unknown) => {
    const p = (msg as { connectParams?: { hostname?: string; host?: string; port?: string | number } }).connectParams;
    hosts.push(`${p?.hostname ?? p?.host ?? '?'}:${p?.port ?? ''}`);
  };
  subscribe('undici:client:beforeConnect', onConnect);
  return { hosts, stop: () => unsubscribe('undici:client:beforeConnect', onConnect) };
}

/** Loopback only (the tests' rule): 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(hostPort: string): boolean {
  const h = hostPort.replace(/:\d*$/, '').replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** A small valid image as a registry serves it: one gzip layer, its config, the manifest. */
export interface ServedImage {
  layer: Buffer;
  layerDigest: Digest;
  diffId: Digest;
  config: Buffer;
  configDigest: Digest;
  manifest: Buffer;
  manifestDigest: Digest;
}

export async function servedImage(layerTar?: Buffer): Promise<ServedImage> {
  const tar =
    layerTar ??
    Buffer.concat(
      await (async () => {
        const out: Uint8Array[] = [];
        for await (const c of writeTar([
          { path: 'etc', type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1_700_000_000 },
          { path: 'etc/motd', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 3, mtime: 1_700_000_000, data: 'hi\n' },
        ]))
          out.push(c);
        return out;
      })(),
    );
  const layer = gzipSync(tar);
  const diffId = sha256(tar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/bin'], Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created_by: 'fuzz' }],
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }],
    }),
  );
  return { layer, layerDigest: sha256(layer), diffId, config, configDigest: sha256(config), manifest, manifestDigest: sha256(manifest) };
}

/** A gzip layer made while streaming its tar (the tar is never held whole): the bytes, digest and diffID. */
export interface GzLayer {
  gz: Buffer;
  digest: Digest;
  diffId: Digest;
  /** Bytes of the uncompressed tar. */
  tarSize: number;
}

export async function gzLayer(tar: AsyncIterable<Uint8Array>): Promise<GzLayer> {
  const { createGzip, constants } = await import('node:zlib');
  const { createHash } = await import('node:crypto');
  const h = createHash('sha256');
  const z = createGzip({ level: constants.Z_BEST_SPEED, memLevel: 9 });
  const out: Buffer[] = [];
  z.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    z.on('end', resolve);
    z.on('error', reject);
  });
  let tarSize = 0;
  for await (const c of tar) {
    h.update(c);
    tarSize += c.length;
    if (!z.write(c)) await new Promise<void>((r) => z.once('drain', r));
  }
  z.end();
  await done;
  const gz = Buffer.concat(out);
  return { gz, digest: sha256(gz), diffId: `sha256:${h.digest('hex')}` as Digest, tarSize };
}

/** An image of these layers as a registry serves it; `handler` serves it as `repo:tag`. */
export function servedLayers(layers: GzLayer[]): { manifest: Buffer; manifestDigest: Digest; config: Buffer; configDigest: Digest; blobs: Map<string, Buffer> } {
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/bin'], Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map(() => ({ created_by: 'hostile' })),
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.gz.length })),
    }),
  );
  const blobs = new Map<string, Buffer>([[sha256(config), config], ...layers.map((l): [string, Buffer] => [l.digest, l.gz])]);
  return { manifest, manifestDigest: sha256(manifest), config, configDigest: sha256(config), blobs };
}

/** The handler of a registry serving `img` (from `servedLayers`) as `repo:tag`, no auth. */
export function honestLayers(img: ReturnType<typeof servedLayers>, repo: string, tag = '1'): Handler {
  return ({ path }) => {
    if (path === '/v2/') return { status: 200, body: '{}' };
    if (path === `/v2/${repo}/manifests/${tag}` || path === `/v2/${repo}/manifests/${img.manifestDigest}`) {
      return { status: 200, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': img.manifestDigest }, body: img.manifest };
    }
    const m = /^\/v2\/[^]+\/blobs\/(sha256:[0-9a-f]{64})$/.exec(path);
    const blob = m ? img.blobs.get(m[1]) : undefined;
    if (blob) return { status: 200, body: blob };
    return { status: 404, body: JSON.stringify({ errors: [{ code: 'NOT_FOUND', message: 'not here' }] }) };
  };
}

/** The handler of an honest registry serving `img` as `repo:tag` (no auth). */
export function honest(img: ServedImage, repo: string, tag = '1'): Handler {
  return ({ path }) => {
    if (path === '/v2/') return { status: 200, body: '{}' };
    if (path === `/v2/${repo}/manifests/${tag}` || path === `/v2/${repo}/manifests/${img.manifestDigest}`) {
      return { status: 200, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': img.manifestDigest }, body: img.manifest };
    }
    if (path === `/v2/${repo}/blobs/${img.configDigest}`) return { status: 200, body: img.config };
    if (path === `/v2/${repo}/blobs/${img.layerDigest}`) return { status: 200, body: img.layer };
    if (path.startsWith(`/v2/${repo}/tags/list`)) return { status: 200, body: JSON.stringify({ name: repo, tags: [tag] }) };
    return { status: 404, body: JSON.stringify({ errors: [{ code: 'NOT_FOUND', message: 'not here' }] }) };
  };
}
