import { StrataError } from '@strata/errors';
import { parseChallenges, type Challenge } from './challenge';
import type { Credential } from './credentials';
import { apiHost, isLoopback, refusedHop } from './names';
import { header, isTlsError, networkError, errorCode, readBody, visibleUrl, type Body, type HttpResponse, type Transport } from './transport';

/** Where credentials come from (config.json and helpers by default; a login being checked in `login`). */
export type CredentialSource = (domain: string) => Promise<Credential | undefined>;

export interface SessionRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** A path below the registry's base (`/v2/…`), or an absolute URL (upload locations). */
  path: string;
  /** Token scopes the request needs (`repository:NAME:pull`). */
  scopes: string[];
  headers?: Record<string, string>;
  body?: Body;
  redirects?: boolean;
  retry?: boolean;
}

/**
 * One registry, authenticated: the `/v2/` ping (https, or http where allowed: loopback hosts
 * fall back as Docker does), the challenge it answers with, then Basic credentials or Bearer
 * tokens per scope set, fetched again once when the registry refuses one (an expired token).
 */
export interface Session {
  /** The domain as references name it (`docker.io`, `127.0.0.1:5000`). */
  readonly domain: string;
  /** `https://registry-1.docker.io` or `http://127.0.0.1:5000`, once pinged. */
  base(): Promise<string>;
  request(req: SessionRequest): Promise<HttpResponse>;
}

interface Token {
  value: string;
}

/** Error bodies longer than this are cut: what a person reads of one is its first lines. */
const MAX_ERROR_BODY = 64 * 1024;
/** Token server answers longer than this are refused (tokens are a few KiB). */
const MAX_TOKEN_BODY = 1 << 20;

/** The `errors` a registry sends in a JSON body, as one short line. */
export async function registryMessage(res: HttpResponse): Promise<string> {
  let text = '';
  try {
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of res.body) {
      chunks.push(c as Buffer);
      n += (c as Buffer).length;
      if (n >= MAX_ERROR_BODY) {
        res.body.destroy();
        break;
      }
    }
    text = Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY).toString('utf8');
  } catch {
    return `HTTP ${res.status}`;
  }
  const short = (s: string) => {
    const line = s.replace(/\s+/g, ' ').trim();
    return line.length > 200 ? `${line.slice(0, 200)}…` : line;
  };
  try {
    const v = JSON.parse(text) as { errors?: unknown };
    if (Array.isArray(v?.errors) && v.errors.length) {
      const parts = v.errors
        .slice(0, 5)
        .map((e: { code?: unknown; message?: unknown } | null) => [e?.code, e?.message].filter((x) => typeof x === 'string' && x).join(': ').toLowerCase())
        .filter(Boolean);
      if (parts.length) return short(parts.join('; '));
    }
  } catch {
    // not JSON
  }
  const line = short(text.trim().split('\n')[0] ?? '');
  return line ? `HTTP ${res.status}: ${line}` : `HTTP ${res.status}`;
}

export function openSession(domain: string, transport: Transport, credentials: CredentialSource): Session {
  const host = apiHost(domain);
  let pinged: Promise<{ base: string; challenges: Challenge[] }> | undefined;
  let credential: Promise<Credential | undefined> | undefined;
  const tokens = new Map<string, Token>();

  const cred = () => (credential ??= credentials(domain));

  async function tryPing(base: string): Promise<{ base: string; challenges: Challenge[] }> {
    const res = await transport.request({ method: 'GET', url: new URL(`${base}/v2/`) });
    const challenges = res.status === 401 ? parseChallenges(res.headers['www-authenticate']) : [];
    await res.body.dump().catch(() => undefined);
    if (res.status !== 200 && res.status !== 401) {
      throw new StrataError('REGISTRY_ERROR', `${domain}: the /v2/ endpoint answered HTTP ${res.status}: is this a registry?`);
    }
    return { base, challenges };
  }

  function ping() {
    pinged ??= (async () => {
      // Loopback registries usually speak plain http: asking that first saves a TLS context (the
      // root certificates: ~60 ms) on every run. An https server answers plain http with 400.
      if (isLoopback(host)) {
        try {
          return await tryPing(`http://${host}`);
        } catch {
          return await tryPing(`https://${host}`);
        }
      }
      try {
        return await tryPing(`https://${host}`);
      } catch (err) {
        // Docker's rule: registries marked insecure may speak plain http.
        const cause = (err as StrataError).cause;
        const code = cause ? errorCode(cause) : undefined;
        if (transport.allowsHttp(host) && (isTlsError(cause) || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'ECONNREFUSED')) {
          try {
            return await tryPing(`http://${host}`);
          } catch (err2) {
            // the https failure is the one to report when http does not answer either
            if (isTlsError(cause)) throw err;
            throw err2;
          }
        }
        throw err;
      }
    })();
    pinged.catch(() => (pinged = undefined));
    return pinged;
  }

  async function fetchToken(ch: Challenge, scopes: string[]): Promise<Token> {
    const realm = ch.params.realm;
    if (!realm) throw new StrataError('AUTH_FAILED', `${domain}: Bearer challenge without a realm`);
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm);
    } catch {
      throw new StrataError('AUTH_FAILED', `${domain}: Bearer realm is not a URL`);
    }
    const refused = refusedHop(new URL((await ping()).base), realmUrl);
    if (refused) throw new StrataError('AUTH_FAILED', `${domain}: refusing a token realm at ${refused} (${visibleUrl(realmUrl)})`);
    const c = await cred();
    let res: HttpResponse;
    try {
      if (c?.identityToken) {
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.identityToken, client_id: 'strata', access_type: 'offline' });
        if (ch.params.service) form.set('service', ch.params.service);
        if (scopes.length) form.set('scope', scopes.join(' '));
        res = await transport.request({ method: 'POST', url: realmUrl, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
      } else {
        const url = new URL(realmUrl);
        if (ch.params.service) url.searchParams.set('service', ch.params.service);
        for (const s of scopes) url.searchParams.append('scope', s);
        const headers: Record<string, string> = {};
        if (c?.username !== undefined && c.password !== undefined) headers.authorization = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
        res = await transport.request({ method: 'GET', url, headers });
      }
    } catch (err) {
      if (err instanceof StrataError) throw err;
      throw networkError(err, realmUrl, '/etc/docker/certs.d');
    }
    if (res.status === 401 || res.status === 403) {
      await res.body.dump().catch(() => undefined);
      throw new StrataError('AUTH_FAILED', `${domain}: unauthorized: ${c ? 'incorrect username or password' : 'authentication required'}`, {
        hint: `log in first: strata login ${domain}`,
      });
    }
    if (res.status !== 200) throw new StrataError('AUTH_FAILED', `${domain}: token server ${realmUrl.host}: ${await registryMessage(res)}`);
    const body = await readBody(res, MAX_TOKEN_BODY, `${domain}: the answer of token server ${realmUrl.host}`, 'AUTH_FAILED');
    let v: { token?: unknown; access_token?: unknown } | null;
    try {
      v = JSON.parse(body.toString('utf8')) as typeof v;
    } catch {
      throw new StrataError('AUTH_FAILED', `${domain}: token server ${realmUrl.host} answered with something that is not JSON`);
    }
    const value = v !== null && typeof v === 'object' ? (v.token || v.access_token) : undefined;
    if (!value) throw new StrataError('AUTH_FAILED', `${domain}: token server ${realmUrl.host} sent no token`);
    // it goes into a header: printable ASCII only (a newline would be a header of the server's choosing)
    if (typeof value !== 'string' || !/^[\x21-\x7e]+$/.test(value)) throw new StrataError('AUTH_FAILED', `${domain}: token server ${realmUrl.host} sent a token that is not one printable word`);
    return { value };
  }

  async function authorization(challenges: Challenge[], scopes: string[], fresh: boolean): Promise<string | undefined> {
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer) {
      const key = [...new Set(scopes)].sort().join(' ');
      let tok = fresh ? undefined : tokens.get(key);
      if (!tok) {
        tok = await fetchToken(bearer, [...new Set(scopes)]);
        tokens.set(key, tok);
      }
      return `Bearer ${tok.value}`;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      const c = await cred();
      if (c?.username !== undefined && c.password !== undefined) return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
    }
    return undefined;
  }

  async function request(req: SessionRequest): Promise<HttpResponse> {
    const { base, challenges } = await ping();
    let url: URL;
    try {
      url = req.path.startsWith('/') ? new URL(`${base}${req.path}`) : new URL(req.path);
    } catch {
      throw new StrataError('REGISTRY_ERROR', `${domain}: the registry sent a location that is not a URL`);
    }
    // an absolute path came from the registry (an upload Location, a Link header)
    const refused = refusedHop(new URL(base), url);
    if (refused) throw new StrataError('REGISTRY_ERROR', `${domain}: refusing to follow the registry to ${refused} (${visibleUrl(url)})`);
    const send = async (auth: string | undefined) => {
      const headers = { ...req.headers, ...(auth ? { authorization: auth } : {}) };
      return transport.request({ method: req.method, url, headers, body: req.body, redirects: req.redirects, retry: req.retry });
    };
    let res = await send(await authorization(challenges, req.scopes, false));
    if (res.status !== 401) return res;
    // Refused: the token expired, or the registry wants another scope. Ask once more.
    const again = parseChallenges(res.headers['www-authenticate']);
    await res.body.dump().catch(() => undefined);
    const wanted = again.find((c) => c.scheme === 'bearer')?.params.scope;
    const scopes = wanted ? [...req.scopes, ...wanted.split(' ')] : req.scopes;
    const use = again.length ? again : challenges;
    const auth = await authorization(use, scopes, true);
    const replayable = typeof req.body !== 'object' || req.body instanceof Uint8Array;
    if (!auth || !replayable) {
      const c = await cred();
      throw new StrataError('AUTH_FAILED', `${domain}: unauthorized: ${c ? 'the registry refused the saved credentials' : 'authentication required'}`, {
        hint: `log in first: strata login ${domain}`,
      });
    }
    res = await send(auth);
    if (res.status === 401) {
      await res.body.dump().catch(() => undefined);
      throw new StrataError('AUTH_FAILED', `${domain}: unauthorized: authentication required`, { hint: `log in first: strata login ${domain}` });
    }
    return res;
  }

  return { domain, base: async () => (await ping()).base, request };
}

/** Check a login the way `docker login` does: ping, then one authenticated request (a token for no scope, or /v2/). */
export async function checkLogin(session: Session): Promise<void> {
  const res = await session.request({ method: 'GET', path: '/v2/', scopes: [] });
  const status = res.status;
  await res.body.dump().catch(() => undefined);
  if (status !== 200) throw new StrataError('AUTH_FAILED', `${session.domain}: login refused (HTTP ${status})`);
}

export { header };
