import { StrataError, noSpaceCause, type ErrorCode } from '@strata/errors';

/**
 * How an error ends the program, in one place: the exit status of each error code, the hint
 * printed when the error has none of its own, and the one-line rendering on stderr.
 */

/**
 * A full filesystem is one failure however deep it happened: any error with `ENOSPC` / `EDQUOT`
 * in its cause chain is reported as `NO_SPACE` (the context of a StrataError kept, the errno's
 * wording dropped).
 */
export function asReported(err: unknown): unknown {
  if (err instanceof StrataError && err.code === 'NO_SPACE') return err;
  const e = noSpaceCause(err);
  if (!e) return err;
  const what = e.code === 'EDQUOT' ? 'disk quota exceeded' : 'no space left on device';
  let message: string;
  if (err instanceof StrataError) {
    // "loading x: ENOSPC: no space left on device, write" → "loading x: no space left on device"
    message = err.message.includes(e.message) ? err.message.replace(e.message, what) : `${err.message} (${what})`;
  } else message = `${what}${e.path ? ` writing ${e.path}` : ''}`;
  return new StrataError('NO_SPACE', message, { cause: err });
}

/** Exit status: 2 for every user-reachable failure (usage or operation), 130 for an interrupt, 3 for a bug. */
export function exitCodeOf(err: unknown): number {
  err = asReported(err);
  if (err instanceof StrataError) return err.code === 'INTERRUPTED' ? 130 : 2;
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && typeof e.syscall === 'string') return 2;
  return 3;
}

/**
 * What to do about an error of this code, when the error does not say more itself: only where
 * there is something to do (a usage error or a parse error says what is wrong; no hint repeats it).
 */
export const DEFAULT_HINTS: Partial<Record<ErrorCode, string>> = {
  IMAGE_NOT_FOUND: '`strata image ls` lists the local images; `strata pull REF` fetches one from a registry',
  BLOB_NOT_FOUND: '`strata store check` shows what the store is missing',
  STORE_CORRUPT: '`strata store check` shows what is damaged; `strata store gc` removes what nothing uses',
  DIGEST_MISMATCH: 'the bytes were damaged on the way or on disk; fetch or load them again',
  LOCKED: 'another strata process holds the store lock: wait for it (STRATA_LOCK_TIMEOUT sets how long, in seconds)',
  RUNTIME_NOT_FOUND: 'install runc or crun (Debian: apt-get install runc), or name one with STRATA_RUNTIME',
  AUTH_FAILED: '`strata login SERVER` stores credentials (or `docker login`: strata reads ~/.docker/config.json)',
  COPY_SOURCE_NOT_FOUND: '`strata context ls` shows what the build context holds after .dockerignore',
  PORT_ALLOCATED: 'publish on another host port, or give only the container port for an ephemeral one',
  NO_SPACE: 'free space on the filesystem of the store (`strata image prune` and `strata store gc` remove what nothing uses), then run the command again: nothing half-written was kept',
};

export function hintOf(err: StrataError): string | undefined {
  return err.hint ?? DEFAULT_HINTS[err.code];
}

/** Control characters a terminal acts on: C0 but tab and newline, DEL, C1. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** The text of an error as printed: `strata: <message>` and, where there is one, `hint: <hint>`; or one JSON line. */
export function formatError(err: unknown, opts: { json?: boolean; verbose?: boolean } = {}): string {
  err = asReported(err);
  // messages quote names and bodies strangers wrote: no escape sequence reaches the terminal
  const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ').trim().replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  if (err instanceof StrataError) {
    const hint = hintOf(err);
    if (opts.json) return `${JSON.stringify({ error: { code: err.code, message: oneLine(err.message), ...(hint ? { hint } : {}) } })}\n`;
    let out = `strata: ${oneLine(err.message)}\n`;
    if (hint) out += `hint: ${oneLine(hint)}\n`;
    if (opts.verbose && err.cause) out += `cause: ${String((err.cause as Error).stack ?? err.cause)}\n`;
    return out;
  }
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && typeof e.syscall === 'string') {
    return opts.json ? `${JSON.stringify({ error: { code: 'IO_ERROR', message: oneLine(e.message) } })}\n` : `strata: ${oneLine(e.message)}\n`;
  }
  return `strata: internal error: ${(e as Error)?.stack ?? String(err)}\n`;
}
