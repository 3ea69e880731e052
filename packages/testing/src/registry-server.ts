import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';

/**
 * Debian's `docker-registry` (distribution 2.8) on 127.0.0.1, in one of four modes: plain http;
 * htpasswd Basic auth; https with a CA made here plus htpasswd; Bearer tokens from a small token
 * server started here (RS256, the signing certificate in the JWT's `x5c` header).
 */
export type RegistryMode = 'plain' | 'basic' | 'tls' | 'token';

export interface RegistryServer {
  mode: RegistryMode;
  /** `127.0.0.1:PORT` */
  host: string;
  /** Its storage directory. */
  dir: string;
  user: string;
  password: string;
  /** The CA that signed its certificate (tls mode). */
  caFile?: string;
  /** A directory laid out as Docker's certs.d: `DIR/HOST/ca.crt` (tls mode). */
  certsDir?: string;
  /** Everything the registry logged (its access log counts requests). */
  log(): string;
  /** The log once the registry has been quiet for 200 ms (its access-log lines may trail the responses). */
  settledLog(): Promise<string>;
  /** Requests the token server answered (token mode). */
  tokenRequests(): Array<{ scope: string[]; authorized: boolean }>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

/** A CA and a server certificate for 127.0.0.1 signed by it, valid from an hour ago for ten years. */
export function makeCertificates(dir: string): { caFile: string; certFile: string; keyFile: string } {
  mkdirSync(dir, { recursive: true });
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-subj', '/CN=strata test CA'], dir);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '3650', '-extfile', 'ext.cnf'], dir);
  return { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') };
}

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

/** A token server: Basic credentials in, an RS256 JWT with the scopes asked for out (none for anonymous callers). */
async function startTokenServer(
  dir: string,
  user: string,
  password: string,
  service: string,
  expireFirst: boolean,
): Promise<{ realm: string; certFile: string; issuer: string; requests: Array<{ scope: string[]; authorized: boolean }>; server: Server; setSkew(ms: number): void }> {
  // A token service shares its registry's clock: tokens are dated by the registry's clock (this
  // process's plus the skew measured from the registry's Date header), which differs from this
  // process's when that one is faked (the year-ahead test run) and the registry's is not.
  let skewMs = 0;
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'token.key', '-out', 'token.crt', '-days', '3650', '-subj', '/CN=strata test token issuer'], dir);
  const key = createPrivateKey(readFileSync(join(dir, 'token.key')));
  const certDer = new X509Certificate(readFileSync(join(dir, 'token.crt'))).raw;
  const issuer = 'strata-test-issuer';
  const requests: Array<{ scope: string[]; authorized: boolean }> = [];
  const issued = new Set<number>();
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization ?? '';
    const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const authorized = auth === expected;
    const scope = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    requests.push({ scope, authorized });
    if (auth && !authorized) {
      res.statusCode = 401;
      res.end('{"details":"incorrect username or password"}');
      return;
    }
    const access = authorized
      ? scope.map((s) => {
          const parts = s.split(':');
          return { type: parts[0], name: parts.slice(1, -1).join(':'), actions: parts[parts.length - 1].split(',') };
        })
      : [];
    // expireFirst: the first token given to a logged-in client expired an hour ago (it must ask again)
    const stale = expireFirst && authorized && issued.size === 0;
    if (authorized) issued.add(requests.length);
    const now = Math.floor((Date.now() + skewMs) / 1000) - (stale ? 7200 : 0);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
    const claims = { iss: issuer, sub: authorized ? user : '', aud: service, exp: now + 300, nbf: now - 60, iat: now, jti: randomBytes(8).toString('hex'), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date(now * 1000).toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { realm: `http://127.0.0.1:${port}/token`, certFile: join(dir, 'token.crt'), issuer, requests, server, setSkew: (ms) => (skewMs = ms) };
}

/** The status of a GET of `url` (0 when it fails) and how far the server's clock (its Date header) is ahead of this process's. */
function probe(url: string, ca: string | undefined): Promise<{ status: number; skewMs: number }> {
  return new Promise((resolve) => {
    const r = (url.startsWith('https') ? httpsRequest : httpRequest)(url, ca ? { ca } : {}, (res) => {
      res.resume();
      const date = Date.parse(String(res.headers.date ?? ''));
      resolve({ status: res.statusCode ?? 0, skewMs: Number.isFinite(date) ? date - Date.now() : 0 });
    });
    r.on('error', () => resolve({ status: 0, skewMs: 0 }));
    r.setTimeout(2000, () => r.destroy());
    r.end();
  });
}

/** Start a registry in `mode` with its storage under `dir` (a fresh directory per registry). */
export async function startRegistry(mode: RegistryMode, dir: string, opts: { user?: string; password?: string; expireFirstToken?: boolean } = {}): Promise<RegistryServer> {
  const user = opts.user ?? 'strata';
  const password = opts.password ?? 'p4ss,word "quoted"';
  mkdirSync(join(dir, 'data'), { recursive: true });
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  accesslog:',
    '    disabled: false',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${host}`,
    `  secret: ${randomBytes(8).toString('hex')}`,
  ];
  let caFile: string | undefined;
  let certsDir: string | undefined;
  let token: Awaited<ReturnType<typeof startTokenServer>> | undefined;
  if (mode === 'tls') {
    const certs = makeCertificates(join(dir, 'certs'));
    caFile = certs.caFile;
    certsDir = join(dir, 'certs.d');
    mkdirSync(join(certsDir, host), { recursive: true });
    writeFileSync(join(certsDir, host, 'ca.crt'), readFileSync(certs.caFile));
    lines.push('  tls:', `    certificate: ${certs.certFile}`, `    key: ${certs.keyFile}`);
  }
  if (mode === 'basic' || mode === 'tls') {
    const htpasswd = execFileSync('htpasswd', ['-Bbn', user, password], { encoding: 'utf8' });
    writeFileSync(join(dir, 'htpasswd'), htpasswd);
    lines.push('auth:', '  htpasswd:', '    realm: strata-test', `    path: ${join(dir, 'htpasswd')}`);
  }
  if (mode === 'token') {
    token = await startTokenServer(dir, user, password, 'strata-test-registry', opts.expireFirstToken === true);
    lines.push('auth:', '  token:', `    realm: ${token.realm}`, '    service: strata-test-registry', `    issuer: ${token.issuer}`, `    rootcertbundle: ${token.certFile}`);
  }
  writeFileSync(join(dir, 'config.yml'), `${lines.join('\n')}\n`);
  let log = '';
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (log += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (log += s));
  const url = `${mode === 'tls' ? 'https' : 'http'}://${host}/v2/`;
  const ca = caFile ? readFileSync(caFile, 'utf8') : undefined;
  for (let i = 0; i < 100; i++) {
    const { status, skewMs } = await probe(url, ca);
    // a skew under a few seconds is the Date header's whole seconds, not another clock
    if (token && Math.abs(skewMs) > 5000) token.setSkew(skewMs);
    if (status === 200 || status === 401) break;
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${log}`);
    if (i === 99) throw new Error(`docker-registry did not answer on ${host}: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    mode,
    host,
    dir,
    user,
    password,
    caFile,
    certsDir,
    log: () => log,
    settledLog: async () => {
      for (let i = 0, seen = -1; i < 30 && seen !== log.length; i++) {
        seen = log.length;
        await new Promise((r) => setTimeout(r, 200));
      }
      return log;
    },
    tokenRequests: () => token?.requests ?? [],
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
      if (token) await new Promise<void>((resolve) => token!.server.close(() => resolve()));
    },
  };
}

/** Count the registry's access-log lines for `method` on paths matching `path` (a RegExp). */
export function countRequests(log: string, method: string, path: RegExp): number {
  let n = 0;
  for (const line of log.split('\n')) {
    const m = /"(GET|HEAD|POST|PUT|PATCH|DELETE) ([^ ]+) HTTP\/[\d.]+"/.exec(line);
    if (m && m[1] === method && path.test(m[2])) n++;
  }
  return n;
}

/** `{"auths":{HOST:{"auth":base64(user:pass)}}}` — what `docker login` writes. */
export function authConfig(host: string, user: string, password: string): string {
  return JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } });
}

export function sha256Hex(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}
