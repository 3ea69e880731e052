import { StrataError } from '@strata/errors';

/**
 * The time output is relative to ("3 weeks ago", `--keep-duration`, `until=24h`): the system
 * clock, or `STRATA_NOW` (RFC 3339 with a zone, or Unix seconds) where tests pin it.
 */
export function clockOf(env: NodeJS.ProcessEnv): () => Date {
  const pinned = env.STRATA_NOW;
  if (!pinned) return () => new Date();
  const ms = /^\d+(\.\d+)?$/.test(pinned) ? Number(pinned) * 1000 : /(Z|[+-]\d\d:\d\d)$/i.test(pinned) ? Date.parse(pinned) : NaN;
  if (Number.isNaN(ms)) throw new StrataError('USAGE', `STRATA_NOW must be an RFC 3339 time with a zone or Unix seconds, not "${pinned}"`);
  return () => new Date(ms);
}
