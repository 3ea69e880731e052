import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { setFlagsFromString } from 'node:v8';
import type { Dispatcher } from 'undici';
// the parts of undici this uses, not its index (see undici-parts.d.ts)
import Agent from 'undici/lib/dispatcher/agent.js';
import apiRequest from 'undici/lib/api/api-request.js';
import { StrataError } from '@strata/errors';
import { isLoopback, refusedHop } from './names';

// undici parses HTTP with a WebAssembly module (llhttp, compiled at the first connection); V8's
// optimising compiler spent ~0.3 s of CPU on it at each start of a registry command, for no gain
// on transfers (measured the same on a 200 MB pull). Liftoff, V8's baseline WebAssembly compiler,
// only. Set here, when the transport is first loaded, not by the launcher at every start: a V8 flag
// changed at run time makes node compile each built-in module loaded after it from source (its
// code cache no longer matches the flags), which cost every command ~20 ms.
setFlagsFromString('--liftoff-only');

export interface Timeouts {
  /** Establishing a connection (TCP + TLS). Default 30 s. */
  connectMs?: number;
  /** From the request sent to the response headers: a registry verifying a big layer before it
   *  answers the final PUT can take minutes. Default 10 min. */
  headersMs?: number;
  /** Idle time between two chunks of a body. Default 2 min. */
  bodyMs?: number;
}

export interface TransportOptions {
  /** The environment: HTTPS_PROXY / HTTP_PROXY / NO_PROXY (any case), STRATA_EXTRA_CA_CERTS. */
  env?: Record<string, string | undefined>;
  /** false: accept any certificate and allow plain http, for every host (`--tls-verify=false`). */
  tlsVerify?: boolean;
  /** Hosts allowed over plain http besides loopback ones (Docker's insecure-registries). */
  insecureHosts?: readonly string[];
  /** Plain http to any host: for `ADD <url>`, whose URL names its scheme (not for registries). */
  anyHttp?: boolean;
  /** Redirects followed before giving up (default 5; Go's http client, which BuildKit uses, 10). */
  maxRedirects?: number;
  /** Docker's per-registry TLS directory: `DIR/HOST:PORT/{*.crt, *.cert, *.key}`. */
  certsDir?: string;
  timeouts?: Timeouts;
  /** Retries of one request after the first try (408, 429, 5xx, reset connections). Default 4. */
  retries?: number;
  /** Longest wait before a retry, Retry-After included. Default 30 s. */
  maxRetryDelayMs?: number;
  /** Waits between retries (tests make them instant). */
  sleep?: (ms: number) => Promise<void>;
  /** Told about each retry (for -v output); never given a credential. */
  onRetry?: (info: { url: string; attempt: number; delayMs: number; reason: string }) => void;
}

export type Body = Uint8Array | string | (() => AsyncIterable<Uint8Array> | Promise<AsyncIterable<Uint8Array>>);

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: URL;
  headers?: Record<string, string>;
  /** Bytes, or an opener (called again for a retry). */
  body?: Body;
  /** Follow redirects (GET and HEAD do by default); the Authorization header is not sent to another origin. */
  redirects?: boolean;
  /** Retry on 408/429/5xx and reset connections (default true). */
  retry?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** The URL that answered (after redirects). */
  url: URL;
}

export interface Transport {
  request(req: HttpRequest): Promise<HttpResponse>;
  /** May `host` be reached over plain http? (loopback, listed insecure hosts, or tlsVerify=false) */
  allowsHttp(host: string): boolean;
  close(): Promise<void>;
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const RETRY_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED']);
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_NOT_YET_VALID',
]);

export function header(h: HttpResponse['headers'], name: string): string | undefined {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** The error code of a failed request, looking through undici's wrapping. */
export function errorCode(err: unknown): string | undefined {
  for (let e = err as { code?: string; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) {
    if (typeof e.code === 'string' && e.code !== 'UND_ERR') return e.code;
  }
  return undefined;
}

export function isTlsError(err: unknown): boolean {
  const c = errorCode(err);
  return c !== undefined && (TLS_CODES.has(c) || c.startsWith('ERR_SSL') || c === 'EPROTO' || c.startsWith('ERR_TLS'));
}

/** A failed connection as a one-line StrataError, with a hint that says how to trust a registry's CA. */
export function networkError(err: unknown, url: URL, certsDir: string): StrataError {
  const code = errorCode(err);
  const host = url.host;
  if (code && TLS_CODES.has(code)) {
    const what = code === 'CERT_HAS_EXPIRED' ? 'has expired' : code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? `is not valid for ${url.hostname}` : 'is signed by an unknown authority';
    return new StrataError('NETWORK_ERROR', `${host}: x509: the registry's TLS certificate ${what} (${code})`, {
      hint: `trust its CA as Docker does: put it in ${join(certsDir, host, 'ca.crt')} (or add it to STRATA_EXTRA_CA_CERTS); --tls-verify=false skips the check`,
      cause: err,
    });
  }
  const msg = (err as Error)?.message ?? String(err);
  return new StrataError('NETWORK_ERROR', `${url.protocol}//${host}: ${code ? `${code}: ` : ''}${msg}`.replace(/\s+/g, ' '), { cause: err });
}

/** A URL for a message: scheme, host and path, cut short (a redirect's query may be a signature). */
export function visibleUrl(u: URL): string {
  const s = u.protocol === 'http:' || u.protocol === 'https:' ? `${u.protocol}//${u.host}${u.pathname}` : `${u.protocol}${u.pathname}`;
  return s.length > 120 ? `${s.slice(0, 120)}…` : s;
}

/**
 * A response body in memory, at most `max` bytes: a longer one (announced or sent) is refused
 * with `code` and the connection dropped, so a registry cannot make strata hold or read without end.
 */
export async function readBody(res: HttpResponse, max: number, what: string, code: 'INVALID_MANIFEST' | 'REGISTRY_ERROR' | 'AUTH_FAILED'): Promise<Buffer> {
  const tooLarge = () => new StrataError(code, `${what} is larger than ${max >= 1 << 20 ? `${max / (1 << 20)} MiB` : `${max / 1024} KiB`}`);
  const announced = Number(header(res.headers, 'content-length'));
  if (Number.isFinite(announced) && announced > max) {
    res.body.destroy();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of res.body) {
      n += (c as Buffer).length;
      if (n > max) {
        res.body.destroy();
        throw tooLarge();
      }
      chunks.push(c as Buffer);
    }
  } catch (err) {
    if (err instanceof StrataError) throw err;
    throw new StrataError('NETWORK_ERROR', `${what}: ${errorCode(err) ?? (err as Error)?.message ?? String(err)}`, { cause: err });
  }
  return Buffer.concat(chunks, n);
}

function delayFor(res: HttpResponse | undefined, attempt: number, max: number): number {
  const ra = res ? header(res.headers, 'retry-after') : undefined;
  if (ra !== undefined) {
    if (/^\d+$/.test(ra.trim())) return Math.min(Number(ra) * 1000, max);
    // an HTTP-date: measured against the response's own Date, so no local clock is trusted
    const at = Date.parse(ra);
    const now = res ? Date.parse(header(res.headers, 'date') ?? '') : NaN;
    if (!Number.isNaN(at) && !Number.isNaN(now)) return Math.min(Math.max(0, at - now), max);
  }
  return Math.min(250 * 2 ** attempt, max);
}

function loadPem(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * HTTP for registries, on undici: one connection pool per host with that host's TLS settings
 * (Docker's `certs.d/HOST:PORT/` CAs and client certificates), proxies from the environment,
 * timeouts, bounded retries with backoff that honours `Retry-After`, and redirects that never
 * carry the Authorization header to another origin.
 */
export function createTransport(opts: TransportOptions = {}): Transport {
  const env = opts.env ?? {};
  const certsDir = opts.certsDir ?? '/etc/docker/certs.d';
  const retries = opts.retries ?? 4;
  const maxDelay = opts.maxRetryDelayMs ?? 30_000;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const t = { connectMs: 30_000, headersMs: 600_000, bodyMs: 120_000, ...opts.timeouts };
  const dispatchers = new Map<string, Dispatcher>();
  const pending = new Map<string, Promise<Dispatcher>>();
  const insecure = new Set(opts.insecureHosts ?? []);
  const maxRedirects = opts.maxRedirects ?? 5;
  let extraCa: string[] | undefined;

  function tlsFor(host: string): Record<string, unknown> {
    const tls: Record<string, unknown> = {};
    if (opts.tlsVerify === false) {
      tls.rejectUnauthorized = false;
      return tls;
    }
    const cas: string[] = [];
    const dir = join(certsDir, host);
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      names = [];
    }
    for (const n of names.filter((x) => x.endsWith('.crt'))) {
      const pem = loadPem(join(dir, n));
      if (pem) cas.push(pem);
    }
    const cert = names.find((x) => x.endsWith('.cert'));
    if (cert) {
      const key = cert.replace(/\.cert$/, '.key');
      const c = loadPem(join(dir, cert));
      const k = loadPem(join(dir, key));
      if (!c || !k) throw new StrataError('NETWORK_ERROR', `${host}: client certificate ${join(dir, cert)} needs its key ${join(dir, key)}`);
      tls.cert = c;
      tls.key = k;
    }
    if (env.STRATA_EXTRA_CA_CERTS || env.NODE_EXTRA_CA_CERTS) {
      if (extraCa === undefined) {
        const file = (env.STRATA_EXTRA_CA_CERTS || env.NODE_EXTRA_CA_CERTS)!;
        const pem = loadPem(file);
        extraCa = pem ? [pem] : [];
      }
      cas.push(...extraCa);
    }
    if (cas.length) {
      tls.ca = [...rootCertificates, ...cas];
    }
    return tls;
  }

  async function dispatcherFor(url: URL): Promise<Dispatcher> {
    const key = `${url.protocol}//${url.host}`;
    let d = dispatchers.get(key);
    if (d) return d;
    const waiting = pending.get(key);
    if (waiting) return waiting;
    const tls = url.protocol === 'https:' ? tlsFor(url.host) : {};
    const base = { connect: { timeout: t.connectMs, ...tls }, headersTimeout: t.headersMs, bodyTimeout: t.bodyMs, connections: 8 };
    const httpsProxy = env.HTTPS_PROXY ?? env.https_proxy;
    const httpProxy = env.HTTP_PROXY ?? env.http_proxy;
    if (httpsProxy || httpProxy) {
      // the proxy agent is loaded only where a proxy is set; the pool is shared before the first await
      // undici's index here: the proxy agents use request APIs its index installs on Dispatcher
      const proxied = import('undici').then(
        ({ EnvHttpProxyAgent }) =>
          new EnvHttpProxyAgent({
            ...base,
            httpProxy: httpProxy ?? '',
            httpsProxy: httpsProxy ?? httpProxy ?? '',
            noProxy: env.NO_PROXY ?? env.no_proxy ?? '',
            requestTls: tls,
          }),
      );
      pending.set(key, proxied);
      d = await proxied;
      pending.delete(key);
    } else {
      d = new Agent(base);
    }
    dispatchers.set(key, d);
    return d;
  }

  async function once(req: HttpRequest, url: URL, headers: Record<string, string>): Promise<HttpResponse> {
    let body: Uint8Array | string | AsyncIterable<Uint8Array> | undefined;
    if (typeof req.body === 'function') body = await req.body();
    else body = req.body;
    const dispatcher = await dispatcherFor(url);
    const res = await apiRequest.call(dispatcher, {
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: req.method,
      headers,
      body: body as never,
      headersTimeout: t.headersMs,
      bodyTimeout: t.bodyMs,
    });
    return { status: res.statusCode, headers: res.headers as HttpResponse['headers'], body: res.body, url };
  }

  async function withRedirects(req: HttpRequest): Promise<HttpResponse> {
    const follow = req.redirects ?? (req.method === 'GET' || req.method === 'HEAD');
    let url = req.url;
    let headers: Record<string, string> = { 'user-agent': 'strata', ...req.headers };
    for (let hop = 0; ; hop++) {
      if (url.protocol === 'http:' && !allowsHttp(url.host)) {
        throw new StrataError('NETWORK_ERROR', `refusing plain http to ${url.host}`, { hint: '--tls-verify=false allows http (insecure)' });
      }
      const res = await once(req, url, headers);
      const location = header(res.headers, 'location');
      if (!follow || res.status < 300 || res.status >= 400 || res.status === 304 || !location) return res;
      await res.body.dump().catch(() => undefined);
      if (hop >= maxRedirects) throw new StrataError('REGISTRY_ERROR', `${req.url.host}: stopped after ${maxRedirects} redirects`);
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new StrataError('REGISTRY_ERROR', `${url.host}: redirect to a Location that is not a URL`);
      }
      const refused = refusedHop(url, next);
      if (refused) throw new StrataError('REGISTRY_ERROR', `${url.host}: refusing a redirect to ${refused} (${visibleUrl(next)})`);
      if (next.origin !== url.origin) {
        // blob storage behind a redirect gets a signed URL, never the registry's credentials
        const { authorization: _a, Authorization: _b, ...rest } = headers;
        void _a;
        void _b;
        headers = rest;
      }
      url = next;
    }
  }

  async function doRequest(req: HttpRequest): Promise<HttpResponse> {
    const replayable = typeof req.body !== 'object' || req.body instanceof Uint8Array;
    const canRetry = req.retry !== false && replayable;
    for (let attempt = 0; ; attempt++) {
      let res: HttpResponse | undefined;
      let failure: unknown;
      try {
        res = await withRedirects(req);
      } catch (err) {
        if (err instanceof StrataError) throw err;
        failure = err;
      }
      const retriable = res ? RETRY_STATUS.has(res.status) : RETRY_CODES.has(errorCode(failure) ?? '');
      if (!retriable || !canRetry || attempt >= retries) {
        if (res) return res;
        throw networkError(failure, req.url, certsDir);
      }
      const delayMs = delayFor(res, attempt, maxDelay);
      if (res) await res.body.dump().catch(() => undefined);
      opts.onRetry?.({ url: `${req.url.origin}${req.url.pathname}`, attempt: attempt + 1, delayMs, reason: res ? `HTTP ${res.status}` : (errorCode(failure) ?? 'error') });
      await sleep(delayMs);
    }
  }

  function allowsHttp(host: string): boolean {
    return opts.anyHttp === true || opts.tlsVerify === false || isLoopback(host) || insecure.has(host);
  }

  return {
    request: doRequest,
    allowsHttp,
    close: async () => {
      const all = [...dispatchers.values()];
      dispatchers.clear();
      await Promise.all(all.map((d) => d.close().catch(() => undefined)));
    },
  };
}
