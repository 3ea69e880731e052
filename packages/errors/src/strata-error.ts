/**
 * Stable error codes. A code is part of the public contract: scripts match on it
 * (`--format json` errors carry it), so codes are added, never renamed.
 */
export const ERROR_CODES = {
  USAGE: 'bad command-line usage',
  NOT_FOUND: 'a named thing does not exist',
  IMAGE_NOT_FOUND: 'no image matches the reference',
  BLOB_NOT_FOUND: 'a blob is missing from the store',
  DIGEST_MISMATCH: 'content does not hash to the digest that names it',
  SIZE_MISMATCH: 'content is not the size its descriptor says',
  INVALID_REFERENCE: 'an image reference does not parse',
  INVALID_DIGEST: 'a digest string does not parse',
  INVALID_MANIFEST: 'a manifest, index or config is malformed',
  INVALID_ARCHIVE: 'an image archive is malformed or truncated',
  INVALID_TAR: 'a tar stream is malformed or truncated',
  UNSAFE_PATH: 'a path would escape its root',
  UNSUPPORTED: 'a format or feature strata does not handle',
  CONFLICT: 'the operation conflicts with current state',
  IN_USE: 'the object is used by something else',
  LOCKED: 'the store lock could not be taken',
  STORE_CORRUPT: 'the store is inconsistent',
  DOCKERIGNORE_SYNTAX: 'a .dockerignore pattern is malformed',
  DOCKERFILE_SYNTAX: 'a Dockerfile does not parse',
  BUILD_FAILED: 'a build step failed',
  COPY_SOURCE_NOT_FOUND: 'a COPY/ADD source matched nothing',
  RUNTIME_ERROR: 'the OCI runtime failed',
  RUNTIME_NOT_FOUND: 'no OCI runtime (runc, crun) found',
  IO_ERROR: 'an operating-system I/O call failed',
  INTERRUPTED: 'the operation was interrupted',
  AUTH_FAILED: 'a registry refused the credentials, or needs some',
  REGISTRY_ERROR: 'a registry answered with an error',
  NETWORK_ERROR: 'a connection failed, timed out or could not be trusted (TLS)',
  TOOL_NOT_FOUND: 'a program strata runs (mount, a CNI plugin, iptables, …) is not installed',
  PORT_ALLOCATED: 'a host port asked for with -p is already in use',
  NETWORK_SETUP: "a container's network (netns, bridge, port mappings) could not be set up or torn down",
  NO_SPACE: 'the filesystem (or quota) a write went to is full',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface StrataErrorOptions {
  hint?: string;
  cause?: unknown;
}

/** A user-reachable failure: a stable code and a one-line message. */
export class StrataError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options: StrataErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StrataError';
    this.code = code;
    this.hint = options.hint;
  }
}

export function isStrataError(err: unknown, code?: ErrorCode): err is StrataError {
  return err instanceof StrataError && (code === undefined || err.code === code);
}

/** Re-throw `err` with `context: ` in front of its message, keeping code and cause chain. */
export function wrapError(err: unknown, context: string): never {
  if (err instanceof StrataError) {
    throw new StrataError(err.code, `${context}: ${err.message}`, { hint: err.hint, cause: err });
  }
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string' && typeof e.syscall === 'string') {
    throw new StrataError(NO_SPACE_ERRNOS.has(e.code) ? 'NO_SPACE' : 'IO_ERROR', `${context}: ${e.message}`, { cause: err });
  }
  throw err;
}

/** The errno codes of a full filesystem or quota. */
const NO_SPACE_ERRNOS = new Set(['ENOSPC', 'EDQUOT']);

/**
 * The system call error that says a filesystem (or quota) is full, anywhere in `err`'s cause
 * chain: a write that failed for lack of space may reach the top wrapped in other errors.
 */
export function noSpaceCause(err: unknown): NodeJS.ErrnoException | undefined {
  let e = err as { code?: unknown; syscall?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < 16; depth++) {
    if (typeof e.code === 'string' && NO_SPACE_ERRNOS.has(e.code) && typeof e.syscall === 'string') return e as NodeJS.ErrnoException;
    e = e.cause as typeof e;
  }
  return undefined;
}
