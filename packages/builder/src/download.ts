import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync, rmSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { IncomingMessage } from 'node:http';
import { StrataError } from '@strata/errors';

const MAX_REDIRECTS = 10;

let extraCa: string[] | undefined;

/**
 * Trusted CAs for HTTPS. The `strata` launcher moves NODE_EXTRA_CA_CERTS to STRATA_EXTRA_CA_CERTS
 * (node would otherwise parse that bundle at every start, ~50 ms, for commands that never open
 * a TLS connection); it is read here, on first use, on top of node's own roots.
 */
async function trustedCa(): Promise<string[] | undefined> {
  const file = process.env.STRATA_EXTRA_CA_CERTS;
  if (!file) return undefined;
  if (extraCa === undefined) {
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (err) {
      throw new StrataError('NOT_FOUND', `extra CA certificates ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const { rootCertificates } = await import('node:tls');
    extraCa = [...rootCertificates, pem];
  }
  return extraCa;
}

export interface Downloaded {
  /** sha256 digest of the body. */
  digest: string;
  size: number;
  /** The Last-Modified header, if any. */
  lastModified?: string;
  /** The URL after redirects. */
  url: string;
}

// http, https and tls are loaded here, not at start-up: most commands never open a connection.
async function get(url: URL): Promise<IncomingMessage> {
  const headers = { 'user-agent': 'strata', accept: '*/*' };
  const secure = url.protocol === 'https:';
  const { request } = secure ? await import('node:https') : await import('node:http');
  const ca = secure ? await trustedCa() : undefined;
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, ...(ca ? { ca } : {}) }, resolve);
    req.on('error', reject);
    req.end();
  });
}

/**
 * GET `url` (http or https) into `file`, following redirects, hashing as it streams (the body
 * is never held in memory); a status other than 2xx is an error and leaves no file.
 */
export async function download(url: string, what: string, file: string): Promise<Downloaded> {
  let current = new URL(url);
  for (let hops = 0; ; hops++) {
    if (current.protocol !== 'http:' && current.protocol !== 'https:') {
      throw new StrataError('BUILD_FAILED', `${what}: unsupported URL scheme ${current.protocol}`);
    }
    let res: IncomingMessage;
    try {
      res = await get(current);
    } catch (err) {
      throw new StrataError('BUILD_FAILED', `${what}: ${(err as Error).message}`);
    }
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      if (hops >= MAX_REDIRECTS) throw new StrataError('BUILD_FAILED', `${what}: stopped after ${MAX_REDIRECTS} redirects`);
      current = new URL(res.headers.location, current);
      continue;
    }
    if (status < 200 || status >= 300) {
      res.resume();
      throw new StrataError('BUILD_FAILED', `${what}: invalid response status ${status}`);
    }
    const hash = createHash('sha256');
    let size = 0;
    res.on('data', (c: Buffer) => {
      hash.update(c);
      size += c.length;
    });
    try {
      await pipeline(res, createWriteStream(file, { mode: 0o600 }));
    } catch (err) {
      rmSync(file, { force: true });
      throw new StrataError('BUILD_FAILED', `${what}: ${(err as Error).message}`);
    }
    const lm = res.headers['last-modified'];
    return { digest: `sha256:${hash.digest('hex')}`, size, url: current.href, ...(lm ? { lastModified: lm } : {}) };
  }
}
