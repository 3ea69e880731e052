// Registry settings from the command line and the environment, without loading the registry
// client (`build` passes them on, and most builds never reach a registry).
import { StrataError } from '@strata/errors';
import type { RegistryOptions } from '@strata/registry';
import type { CommandContext } from '../runner';

/** `--tls-verify=false` (skopeo's spelling); true, false, or undefined when not given. */
export function parseBool(v: unknown, flag: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === true || v === 'true' || v === '1') return true;
  if (v === false || v === 'false' || v === '0') return false;
  throw new StrataError('USAGE', `${flag} takes true or false, not ${JSON.stringify(v)}`);
}

/**
 * Transport settings from the environment: STRATA_CERTS_DIR (Docker's certs.d layout, default
 * /etc/docker/certs.d), STRATA_REGISTRY_TIMEOUT (seconds a response or a body may stall),
 * STRATA_REGISTRY_RETRY_DELAY_MAX (seconds), and the proxies.
 */
export function registryOptions(ctx: CommandContext, tlsVerify: boolean | undefined): RegistryOptions {
  const env = ctx.io.env;
  const seconds = Number(env.STRATA_REGISTRY_TIMEOUT);
  return {
    env,
    tlsVerify,
    certsDir: env.STRATA_CERTS_DIR || undefined,
    ...(Number.isFinite(seconds) && seconds > 0 ? { timeouts: { headersMs: seconds * 1000, bodyMs: seconds * 1000 } } : {}),
    ...(env.STRATA_REGISTRY_RETRY_DELAY_MAX !== undefined ? { maxRetryDelayMs: Number(env.STRATA_REGISTRY_RETRY_DELAY_MAX) * 1000 } : {}),
    onRetry: (r) => ctx.debug(`retry ${r.attempt} of ${r.url} in ${r.delayMs} ms (${r.reason})`),
  };
}
