import { createHash } from 'node:crypto';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { StrataError } from '@strata/errors';
import type { TransportOptions } from '@strata/registry';

export interface Downloaded {
  /** sha256 digest of the body. */
  digest: string;
  size: number;
  /** The Last-Modified header, if any. */
  lastModified?: string;
  /** The URL after redirects. */
  url: string;
}

/**
 * GET `url` (http or https) into `file`, hashing as it streams (the body is never held in
 * memory), on the registry client's transport: its timeouts, `HTTPS_PROXY`/`NO_PROXY`, extra CAs
 * (`STRATA_EXTRA_CA_CERTS`), bounded retries of 5xx and reset connections, and up to 10 redirects
 * (Go's http client, as BuildKit). A status other than 2xx is an error and leaves no file.
 */
export async function download(url: string, what: string, file: string, net: TransportOptions = {}): Promise<Downloaded> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new StrataError('BUILD_FAILED', `${what}: invalid URL`);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new StrataError('BUILD_FAILED', `${what}: unsupported URL scheme ${target.protocol}`);
  // loaded on first use: most builds download nothing
  const { createTransport } = await import('@strata/registry');
  const transport = createTransport({ ...net, anyHttp: true, maxRedirects: 10 });
  try {
    let res;
    try {
      res = await transport.request({ method: 'GET', url: target, headers: { accept: '*/*' } });
    } catch (err) {
      throw new StrataError('BUILD_FAILED', `${what}: ${(err as Error).message}`, { cause: err });
    }
    if (res.status < 200 || res.status >= 300) {
      await res.body.dump().catch(() => undefined);
      throw new StrataError('BUILD_FAILED', `${what}: invalid response status ${res.status}`);
    }
    const hash = createHash('sha256');
    let size = 0;
    // One chunk at a time, written before the next is read: memory stays flat however big the body.
    const fd = openSync(file, 'w', 0o600);
    try {
      for await (const chunk of res.body) {
        const c = chunk as Buffer;
        hash.update(c);
        size += c.length;
        for (let off = 0; off < c.length; ) off += writeSync(fd, c, off, c.length - off);
      }
    } catch (err) {
      closeSync(fd);
      rmSync(file, { force: true });
      throw new StrataError('BUILD_FAILED', `${what}: ${(err as Error).message}`, { cause: err });
    }
    closeSync(fd);
    const lm = res.headers['last-modified'];
    const lastModified = Array.isArray(lm) ? lm[0] : lm;
    return { digest: `sha256:${hash.digest('hex')}`, size, url: res.url.href, ...(lastModified ? { lastModified } : {}) };
  } finally {
    await transport.close();
  }
}
