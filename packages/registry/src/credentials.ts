import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { atomicWrite } from '@strata/cas';
import { StrataError } from '@strata/errors';
import { configKey } from './names';

/** What a registry login yields: a user and password, or an identity (refresh) token. */
export interface Credential {
  username?: string;
  password?: string;
  /** OAuth2 refresh token (`identitytoken` in config.json; a helper's `<token>` user). */
  identityToken?: string;
}

export interface CredentialOptions {
  /** The environment: DOCKER_CONFIG, HOME and PATH (for `docker-credential-*` helpers). */
  env: Record<string, string | undefined>;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string; email?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [key: string]: unknown;
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json` (as the docker CLI). */
export function dockerConfigPath(env: Record<string, string | undefined>): string {
  if (env.DOCKER_CONFIG) return join(env.DOCKER_CONFIG, 'config.json');
  return join(env.HOME ?? '/root', '.docker', 'config.json');
}

function readConfig(path: string): DockerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new StrataError('IO_ERROR', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const v = JSON.parse(text) as DockerConfig;
    return v && typeof v === 'object' ? v : {};
  } catch (err) {
    throw new StrataError('USAGE', `${path} is not valid JSON (${(err as Error).message})`);
  }
}

/** `https://host:5000/v1/` and `host:5000` name the same registry (the docker CLI matches both). */
function bareKey(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
}

function authEntry(config: DockerConfig, key: string) {
  const auths = config.auths ?? {};
  if (auths[key]) return auths[key];
  const want = bareKey(key);
  for (const [k, v] of Object.entries(auths)) if (bareKey(k) === want) return v;
  return undefined;
}

/** The helper for a registry: a `credHelpers` entry wins over `credsStore`. */
function helperFor(config: DockerConfig, key: string): string | undefined {
  const helpers = config.credHelpers ?? {};
  return helpers[key] ?? helpers[bareKey(key)] ?? (config.credsStore || undefined);
}

/** Run `docker-credential-NAME ACTION` with `input` on stdin; its stdout, or the error it printed. */
function runHelper(name: string, action: 'get' | 'store' | 'erase', input: string, env: CredentialOptions['env']): Promise<{ ok: boolean; out: string }> {
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, [action], { env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.resume();
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ENOENT'
          ? new StrataError('NOT_FOUND', `credential helper ${program} is not on PATH`, { hint: 'install it, or remove it from credsStore/credHelpers in config.json' })
          : err,
      ),
    );
    child.stdin.on('error', () => {});
    child.stdin.end(input);
    child.on('close', (code) => resolve({ ok: code === 0, out: out.trim() }));
  });
}

/**
 * The credential for a registry domain from the docker CLI's config: its credential helper
 * (`credHelpers`, then `credsStore`), else `auths` (`auth` = base64 user:password, or
 * `identitytoken`). Undefined when there is none (anonymous access).
 */
export async function lookupCredential(domain: string, opts: CredentialOptions): Promise<Credential | undefined> {
  const key = configKey(domain);
  const config = readConfig(dockerConfigPath(opts.env));
  const helper = helperFor(config, key);
  if (helper) {
    const r = await runHelper(helper, 'get', key, opts.env);
    // "credentials not found in native keychain": no login for this registry
    if (!r.ok) return undefined;
    let v: { Username?: string; Secret?: string };
    try {
      v = JSON.parse(r.out);
    } catch {
      throw new StrataError('AUTH_FAILED', `credential helper docker-credential-${helper} answered with something that is not JSON`);
    }
    if (!v.Secret) return undefined;
    return v.Username === '<token>' ? { identityToken: v.Secret } : { username: v.Username, password: v.Secret };
  }
  const entry = authEntry(config, key);
  if (!entry) return undefined;
  if (entry.identitytoken) return { identityToken: entry.identitytoken, username: entry.username };
  if (entry.auth) {
    const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    if (i < 0) throw new StrataError('AUTH_FAILED', `the saved login for ${domain} in config.json is malformed`);
    return { username: plain.slice(0, i), password: plain.slice(i + 1) };
  }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  return undefined;
}

async function writeConfig(path: string, config: DockerConfig): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  await atomicWrite(path, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
}

/**
 * Save a login as `docker login` does: through the credential helper when one is configured,
 * else base64 `user:password` in `auths` (the same file docker reads).
 */
export async function storeCredential(domain: string, cred: Required<Pick<Credential, 'username' | 'password'>>, opts: CredentialOptions): Promise<{ where: string }> {
  const key = configKey(domain);
  const path = dockerConfigPath(opts.env);
  const config = readConfig(path);
  const helper = helperFor(config, key);
  if (helper) {
    const r = await runHelper(helper, 'store', JSON.stringify({ ServerURL: key, Username: cred.username, Secret: cred.password }), opts.env);
    if (!r.ok) throw new StrataError('AUTH_FAILED', `credential helper docker-credential-${helper} could not store the login`);
    // docker keeps an empty entry so `auths` still lists the registry
    config.auths = { ...(config.auths ?? {}), [key]: {} };
    await writeConfig(path, config);
    return { where: `docker-credential-${helper}` };
  }
  config.auths = { ...(config.auths ?? {}), [key]: { auth: Buffer.from(`${cred.username}:${cred.password}`).toString('base64') } };
  await writeConfig(path, config);
  return { where: path };
}

/** Forget a login (helper and `auths`); false when there was none. */
export async function eraseCredential(domain: string, opts: CredentialOptions): Promise<boolean> {
  const key = configKey(domain);
  const path = dockerConfigPath(opts.env);
  const config = readConfig(path);
  const helper = helperFor(config, key);
  let found = false;
  if (helper) found = (await runHelper(helper, 'erase', key, opts.env)).ok;
  const auths = config.auths ?? {};
  for (const k of Object.keys(auths)) {
    if (k === key || bareKey(k) === bareKey(key)) {
      delete auths[k];
      found = true;
    }
  }
  if (found) await writeConfig(path, config);
  return found;
}
