import { StrataError } from '@strata/errors';
import { Hasher, MediaType, isDigest, sha256, type Digest } from '@strata/oci';
import { openSession, registryMessage, type CredentialSource, type Session } from './auth';
import { lookupCredential } from './credentials';
import { createTransport, header, networkError, readBody, type Transport, type TransportOptions, type HttpResponse } from './transport';

/** Every manifest type strata reads, for the Accept header (OCI and Docker v2; indexes and lists). */
export const MANIFEST_ACCEPT = [MediaType.OCI_INDEX, MediaType.DOCKER_MANIFEST_LIST, MediaType.OCI_MANIFEST, MediaType.DOCKER_MANIFEST];

export interface RegistryOptions extends TransportOptions {
  /** Credentials per domain (default: config.json and credential helpers, from `env`). */
  credentials?: CredentialSource;
}

/** A connection to any number of registries, sharing pools, sessions and tokens. */
export interface Registries {
  readonly transport: Transport;
  session(domain: string): Session;
  repository(domain: string, path: string): Repository;
  close(): Promise<void>;
}

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

export interface UploadOptions {
  /** Known size (Content-Length, one PUT); unknown sizes stream as PATCH chunks. */
  size?: number;
  /** Upload in PATCH requests of at most this many bytes (`--chunk-size`). */
  chunkSize?: number;
  /** Told the bytes sent so far. */
  onProgress?: (sent: number) => void;
}

/** One repository of one registry: manifests, blobs, uploads, mounts, tags. */
export interface Repository {
  readonly domain: string;
  readonly path: string;
  /** `domain/path`, the form distribution metadata records sources in. */
  readonly name: string;
  /** GET a manifest by tag or digest; verified against the digest asked for (or Docker-Content-Digest). */
  manifest(reference: string, accept?: readonly string[]): Promise<FetchedManifest>;
  /** HEAD: digest, media type and size, or undefined when absent. */
  headManifest(reference: string, accept?: readonly string[]): Promise<{ digest: Digest; mediaType: string; size: number } | undefined>;
  putManifest(reference: string, bytes: Uint8Array, mediaType: string): Promise<Digest>;
  /** HEAD a blob: its size, or undefined when the repository does not have it. */
  blobSize(digest: Digest): Promise<number | undefined>;
  /**
   * A blob's bytes from `offset` on. A connection cut mid-body is resumed with a Range request
   * (when the registry honours it); the bytes are not verified here (callers hash them).
   */
  blob(digest: Digest, opts?: { size?: number; offset?: number; onBytes?: (n: number) => void }): AsyncIterable<Uint8Array>;
  /** Cross-repository mount: true when the registry linked the blob (201), false when it wants an upload. */
  mount(digest: Digest, from: string): Promise<boolean>;
  /** Upload a blob (POST, then PATCH, then PUT ?digest=). When `digest` is undefined it is computed while sending. */
  upload(open: () => Promise<AsyncIterable<Uint8Array>>, digest: Digest | undefined, opts?: UploadOptions): Promise<{ digest: Digest; size: number }>;
  tags(): Promise<string[]>;
}

function scope(path: string, actions: string): string {
  return `repository:${path}:${actions}`;
}

async function fail(res: HttpResponse, what: string, domain: string): Promise<never> {
  const msg = await registryMessage(res);
  if (res.status === 404) throw new StrataError('NOT_FOUND', `${what}: not found (${msg})`);
  if (res.status === 401 || res.status === 403) throw new StrataError('AUTH_FAILED', `${what}: denied (${msg})`, { hint: `log in first: strata login ${domain}` });
  throw new StrataError('REGISTRY_ERROR', `${what}: ${msg}`);
}

const MAX_RESUMES = 5;
/** The largest manifest read, as Docker's and containerd's clients (4 MiB). */
export const MAX_MANIFEST = 4 << 20;
/** The largest page of a tag list read. */
const MAX_TAGS_PAGE = 4 << 20;

export function openRegistries(opts: RegistryOptions = {}): Registries {
  const transport = createTransport(opts);
  const env = opts.env ?? {};
  const credentials = opts.credentials ?? ((domain: string) => lookupCredential(domain, { env }));
  const sessions = new Map<string, Session>();
  const session = (domain: string) => {
    let s = sessions.get(domain);
    if (!s) sessions.set(domain, (s = openSession(domain, transport, credentials)));
    return s;
  };
  return {
    transport,
    session,
    repository: (domain, path) => openRepository(session(domain), path, opts.certsDir ?? '/etc/docker/certs.d'),
    close: () => transport.close(),
  };
}

function openRepository(s: Session, path: string, certsDir: string): Repository {
  const domain = s.domain;
  const name = `${domain}/${path}`;
  const pull = [scope(path, 'pull')];
  const push = [scope(path, 'pull,push')];

  async function manifest(reference: string, accept: readonly string[] = MANIFEST_ACCEPT): Promise<FetchedManifest> {
    const what = `${name}:${reference}`.replace(/:sha256:/, '@sha256:');
    const res = await s.request({ method: 'GET', path: `/v2/${path}/manifests/${reference}`, scopes: pull, headers: { accept: accept.join(', ') } });
    if (res.status !== 200) return fail(res, `manifest ${what}`, domain);
    const bytes = await readBody(res, MAX_MANIFEST, `manifest ${what}`, 'INVALID_MANIFEST');
    const digest = sha256(bytes);
    const claimed = header(res.headers, 'docker-content-digest');
    if (isDigest(reference) && digest !== reference) {
      throw new StrataError('DIGEST_MISMATCH', `manifest ${what}: content hashes to ${digest}`);
    }
    if (claimed && isDigest(claimed) && claimed !== digest) {
      throw new StrataError('DIGEST_MISMATCH', `manifest ${what}: content hashes to ${digest}, the registry says ${claimed}`);
    }
    let mediaType = (header(res.headers, 'content-type') ?? '').split(';')[0].trim();
    try {
      const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown };
      if (typeof doc.mediaType === 'string') mediaType = doc.mediaType;
      else if (!MANIFEST_ACCEPT.includes(mediaType as never)) mediaType = Array.isArray(doc.manifests) ? MediaType.OCI_INDEX : MediaType.OCI_MANIFEST;
    } catch {
      throw new StrataError('INVALID_MANIFEST', `manifest ${what} is not JSON`);
    }
    return { bytes, mediaType, digest };
  }

  async function headManifest(reference: string, accept: readonly string[] = MANIFEST_ACCEPT) {
    const res = await s.request({ method: 'HEAD', path: `/v2/${path}/manifests/${reference}`, scopes: pull, headers: { accept: accept.join(', ') } });
    await res.body.dump().catch(() => undefined);
    if (res.status === 404) return undefined;
    if (res.status !== 200) return fail(res, `manifest ${name}:${reference}`, domain);
    const digest = header(res.headers, 'docker-content-digest');
    if (!digest || !isDigest(digest)) return undefined;
    return { digest, mediaType: (header(res.headers, 'content-type') ?? '').split(';')[0], size: Number(header(res.headers, 'content-length') ?? 0) };
  }

  async function putManifest(reference: string, bytes: Uint8Array, mediaType: string): Promise<Digest> {
    const res = await s.request({ method: 'PUT', path: `/v2/${path}/manifests/${reference}`, scopes: push, headers: { 'content-type': mediaType }, body: bytes });
    if (res.status !== 201 && res.status !== 200) return fail(res, `putting manifest ${name}:${reference}`, domain);
    await res.body.dump().catch(() => undefined);
    return sha256(bytes);
  }

  async function blobSize(digest: Digest): Promise<number | undefined> {
    const res = await s.request({ method: 'HEAD', path: `/v2/${path}/blobs/${digest}`, scopes: pull });
    await res.body.dump().catch(() => undefined);
    if (res.status === 404) return undefined;
    if (res.status !== 200) return fail(res, `blob ${name}@${digest}`, domain);
    const n = Number(header(res.headers, 'content-length'));
    return Number.isFinite(n) ? n : 0;
  }

  function blob(digest: Digest, opts: { size?: number; offset?: number; onBytes?: (n: number) => void } = {}): AsyncIterable<Uint8Array> {
    // a registry sending more than the descriptor says (an endless body) is cut off at once
    const tooLong = (end: number, res: HttpResponse) => {
      if (opts.size === undefined || end <= opts.size) return;
      res.body.destroy();
      throw new StrataError('SIZE_MISMATCH', `blob ${name}@${digest}: more than its descriptor's ${opts.size} bytes`);
    };
    return (async function* () {
      let offset = opts.offset ?? 0;
      let resumes = 0;
      for (;;) {
        const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
        const res = await s.request({ method: 'GET', path: `/v2/${path}/blobs/${digest}`, scopes: pull, headers });
        if (offset > 0 && res.status === 200) {
          // no Range support: skip what we have
          let skip = offset;
          offset = 0;
          try {
            for await (const c of res.body) {
              const chunk = c as Buffer;
              tooLong(offset + chunk.length, res);
              if (skip >= chunk.length) {
                skip -= chunk.length;
                offset += chunk.length;
                continue;
              }
              const part = skip > 0 ? chunk.subarray(skip) : chunk;
              offset += chunk.length;
              skip = 0;
              opts.onBytes?.(part.length);
              yield part;
            }
            return;
          } catch (err) {
            if (err instanceof StrataError) throw err;
            if (++resumes > MAX_RESUMES) throw networkError(err, new URL(`https://${domain}`), certsDir);
            continue;
          }
        }
        if (res.status !== 200 && res.status !== 206) return fail(res, `blob ${name}@${digest}`, domain);
        try {
          for await (const c of res.body) {
            const chunk = c as Buffer;
            tooLong(offset + chunk.length, res);
            offset += chunk.length;
            opts.onBytes?.(chunk.length);
            yield chunk;
          }
        } catch (err) {
          if (err instanceof StrataError) throw err;
          // cut mid-body: ask for the rest
          if (++resumes > MAX_RESUMES) throw networkError(err, new URL(`https://${domain}`), certsDir);
          continue;
        }
        if (opts.size !== undefined && offset < opts.size) {
          // ended early without an error (a proxy closed the body): resume
          if (++resumes > MAX_RESUMES) throw new StrataError('NETWORK_ERROR', `blob ${name}@${digest}: body ended at ${offset} of ${opts.size} bytes`);
          continue;
        }
        return;
      }
    })();
  }

  async function mount(digest: Digest, from: string): Promise<boolean> {
    const fromPath = from.startsWith(`${domain}/`) ? from.slice(domain.length + 1) : from;
    const res = await s.request({
      method: 'POST',
      path: `/v2/${path}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(fromPath)}`,
      scopes: [...push, scope(fromPath, 'pull')],
      headers: { 'content-length': '0' },
    });
    await res.body.dump().catch(() => undefined);
    if (res.status === 201) return true;
    if (res.status === 202) {
      // the registry opened an upload instead: cancel it
      const loc = header(res.headers, 'location');
      if (loc) {
        const u = new URL(loc, await s.base());
        await s.request({ method: 'DELETE', path: u.href, scopes: push }).then((r) => r.body.dump()).catch(() => undefined);
      }
      return false;
    }
    if (res.status === 401 || res.status === 403 || res.status === 404) return false;
    return fail(res, `mounting ${digest} into ${name}`, domain);
  }

  async function startUpload(): Promise<URL> {
    const res = await s.request({ method: 'POST', path: `/v2/${path}/blobs/uploads/`, scopes: push, headers: { 'content-length': '0' } });
    await res.body.dump().catch(() => undefined);
    if (res.status !== 202) return fail(res, `starting an upload to ${name}`, domain);
    const loc = header(res.headers, 'location');
    if (!loc) throw new StrataError('REGISTRY_ERROR', `${name}: upload started without a Location`);
    return new URL(loc, await s.base());
  }

  function withDigest(url: URL, digest: Digest): string {
    const u = new URL(url);
    u.searchParams.set('digest', digest);
    return u.href;
  }

  async function upload(open: () => Promise<AsyncIterable<Uint8Array>>, digest: Digest | undefined, opts: UploadOptions = {}): Promise<{ digest: Digest; size: number }> {
    let location = await startUpload();
    const h = new Hasher();
    const what = `uploading ${digest ?? 'a blob'} to ${name}`;
    const next = (res: HttpResponse) => {
      const loc = header(res.headers, 'location');
      if (loc) location = new URL(loc, location);
    };
    if (opts.chunkSize === undefined && opts.size !== undefined && digest !== undefined) {
      // Monolithic: one PUT with the whole blob and its length (streamed, never held).
      const size = opts.size;
      let sent = 0;
      const res = await s.request({
        method: 'PUT',
        path: withDigest(location, digest),
        scopes: push,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
        body: async () =>
          (async function* () {
            for await (const c of await open()) {
              sent += c.length;
              opts.onProgress?.(sent);
              yield c;
            }
          })(),
        retry: false,
      });
      if (res.status !== 201) return fail(res, what, domain);
      await res.body.dump().catch(() => undefined);
      return { digest, size };
    }
    // Chunked: PATCH with Content-Range per chunk (or one streamed PATCH), then PUT ?digest=.
    const chunkSize = opts.chunkSize ?? Infinity;
    let sent = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const patch = async (body: Buffer | AsyncIterable<Uint8Array>, length?: number) => {
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
      if (length !== undefined) {
        headers['content-length'] = String(length);
        headers['content-range'] = `${sent}-${sent + length - 1}`;
      }
      const res = await s.request({ method: 'PATCH', path: location.href, scopes: push, headers, body: body instanceof Buffer ? body : async () => body as AsyncIterable<Uint8Array>, retry: false });
      if (res.status !== 202) return fail(res, what, domain);
      await res.body.dump().catch(() => undefined);
      next(res);
    };
    if (chunkSize === Infinity) {
      // One streamed PATCH: the digest is computed on the way (a layer compressed as it is sent).
      await patch(
        (async function* () {
          for await (const c of await open()) {
            h.update(c);
            opts.onProgress?.(h.size);
            yield c;
          }
        })(),
      );
      sent = h.size;
    } else {
      for await (const c of await open()) {
        h.update(c);
        pending.push(Buffer.from(c));
        pendingBytes += c.length;
        while (pendingBytes >= chunkSize) {
          const all = Buffer.concat(pending, pendingBytes);
          const part = all.subarray(0, chunkSize);
          await patch(part, part.length);
          sent += part.length;
          opts.onProgress?.(sent);
          pending = [all.subarray(chunkSize)];
          pendingBytes = all.length - chunkSize;
        }
      }
      if (pendingBytes > 0) {
        const part = Buffer.concat(pending, pendingBytes);
        await patch(part, part.length);
        sent += part.length;
        opts.onProgress?.(sent);
      }
    }
    const actual = h.digest();
    if (digest !== undefined && actual !== digest) throw new StrataError('DIGEST_MISMATCH', `${what}: content hashes to ${actual}`);
    const res = await s.request({ method: 'PUT', path: withDigest(location, actual), scopes: push, headers: { 'content-length': '0' } });
    if (res.status !== 201) return fail(res, what, domain);
    await res.body.dump().catch(() => undefined);
    return { digest: actual, size: h.size };
  }

  async function tags(): Promise<string[]> {
    const out: string[] = [];
    let next: string | undefined = `/v2/${path}/tags/list?n=1000`;
    for (let pages = 0; next && pages < 1000; pages++) {
      const res = await s.request({ method: 'GET', path: next, scopes: pull });
      if (res.status !== 200) return fail(res, `tags of ${name}`, domain);
      const page = await readBody(res, MAX_TAGS_PAGE, `a page of the tags of ${name}`, 'REGISTRY_ERROR');
      let v: { tags?: unknown } | null;
      try {
        v = JSON.parse(page.toString('utf8')) as typeof v;
      } catch {
        throw new StrataError('REGISTRY_ERROR', `tags of ${name}: the answer is not JSON`);
      }
      const list = v !== null && typeof v === 'object' ? (v.tags ?? []) : undefined;
      if (!Array.isArray(list) || !list.every((t) => typeof t === 'string')) throw new StrataError('REGISTRY_ERROR', `tags of ${name}: the answer is not a list of tags`);
      out.push(...(list as string[]));
      const link = header(res.headers, 'link');
      const m = link ? /<([^>]+)>;\s*rel="?next"?/.exec(link) : null;
      next = m ? m[1] : undefined;
    }
    return out;
  }

  return { domain, path, name, manifest, headManifest, putManifest, blobSize, blob, mount, upload, tags };
}
