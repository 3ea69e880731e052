import { checkLogin } from './auth';
import { eraseCredential, storeCredential } from './credentials';
import { serverDomain } from './names';
import { openRegistries, type RegistryOptions } from './registry';

export interface LoginOptions extends RegistryOptions {
  /** `docker.io`, `host:5000`, `https://host:5000/` … (default Docker Hub). */
  server?: string;
  username: string;
  password: string;
  env: Record<string, string | undefined>;
}

/**
 * `docker login`: check the credentials against the registry (its `/v2/` ping, and a token when
 * it uses Bearer auth), then save them where docker keeps them, so docker and strata share one
 * `config.json` (and its credential helpers). The password goes nowhere else.
 */
export async function login(opts: LoginOptions): Promise<{ domain: string; where: string }> {
  const domain = serverDomain(opts.server);
  const registries = openRegistries({ ...opts, credentials: async () => ({ username: opts.username, password: opts.password }) });
  try {
    await checkLogin(registries.session(domain));
  } finally {
    await registries.close();
  }
  const { where } = await storeCredential(domain, { username: opts.username, password: opts.password }, { env: opts.env });
  return { domain, where };
}

/** `docker logout`: forget the saved login; false when there was none. */
export async function logout(opts: { server?: string; env: Record<string, string | undefined> }): Promise<{ domain: string; removed: boolean }> {
  const domain = serverDomain(opts.server);
  return { domain, removed: await eraseCredential(domain, { env: opts.env }) };
}
