import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { appendFileSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { StrataError } from '@strata/errors';
import { pidAlive, processStartTime } from '@strata/cas';

/**
 * The store lock: `ROOT/lock`, a symbolic link whose target is `<pid> <token> <process start
 * time>`. One call makes it whole (never seen empty), and a short link needs no data block, so
 * the lock can be taken on a full filesystem: `store check` and `store gc` (what frees space)
 * must work there, and a lock that had to write a file could not be taken. A lock whose process
 * is gone (pid dead, or reused by a process that started later) is stale and is
 * broken — under a short-lived `ROOT/lock.break` guard so two breakers cannot remove a lock a
 * third process has just taken. Inside one process the lock is re-entrant along an async call
 * chain (AsyncLocalStorage) and serialises unrelated callers.
 */
export interface StoreLock {
  withLock<T>(fn: () => Promise<T>): Promise<T>;
  /** Remove the lock file when its holder is dead; true if it did. */
  breakStale(): Promise<boolean>;
}

export interface LockOptions {
  /** Give up after this long (LOCKED). Default: what `setLockTimeout` set, else 120 s. */
  timeoutMs?: number;
  /** Crash tests: called (and may block) once the lock is taken, at `lock-taken`. */
  checkpoint?: (point: string) => void | Promise<void>;
}

const held = new AsyncLocalStorage<string>();
const queues = new Map<string, Promise<unknown>>();
const BREAK_GUARD_STALE_MS = 10_000;

function isCode(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException)?.code === code;
}

async function readHolder(path: string): Promise<{ pid: number; token: string; start?: string; raw: string } | undefined> {
  let raw: string;
  try {
    raw = await fsp.readlink(path);
  } catch (err) {
    if (isCode(err, 'ENOENT')) return undefined;
    if (!isCode(err, 'EINVAL')) throw err;
    // Not a link: a lock file left by an earlier strata, the same fields in a regular file.
    try {
      raw = await fsp.readFile(path, 'utf8');
    } catch (err2) {
      if (isCode(err2, 'ENOENT')) return undefined;
      throw err2;
    }
  }
  const [pid, token, start] = raw.trim().split(/\s+/);
  return { pid: Number(pid), token: token ?? '', start, raw };
}

const myStart = processStartTime(process.pid);

/** A holder is alive when its pid runs and, where known, started when the holder did (pids get reused). */
function holderAlive(h: { pid: number; start?: string }): boolean {
  if (!Number.isInteger(h.pid) || h.pid <= 0 || !pidAlive(h.pid)) return false;
  if (!h.start) return true;
  const now = processStartTime(h.pid);
  return now === undefined || now === h.start;
}

let defaultTimeoutMs = 120_000;

/** How long every store lock of this process waits before LOCKED (the CLI sets it from STRATA_LOCK_TIMEOUT). */
export function setLockTimeout(ms: number): void {
  if (Number.isFinite(ms) && ms > 0) defaultTimeoutMs = ms;
}

let stats: { file: string; op: string } | undefined;

/**
 * Record every store lock this process takes: one JSON line appended to `file` when it is
 * released, `{"op","pid","waitMs","holdMs"}` (the CLI sets it from STRATA_LOCK_STATS; `op` names
 * the command). Undefined stops recording.
 */
export function setLockStats(file: string | undefined, op = ''): void {
  stats = file ? { file, op } : undefined;
}

function recordHold(waitMs: number, holdMs: number): void {
  if (!stats) return;
  try {
    // One short line per append: O_APPEND keeps concurrent writers' lines whole.
    appendFileSync(stats.file, `${JSON.stringify({ op: stats.op, pid: process.pid, waitMs: Math.round(waitMs * 10) / 10, holdMs: Math.round(holdMs * 10) / 10 })}\n`);
  } catch {
    // statistics never fail a command
  }
}

export function storeLock(root: string, opts: LockOptions = {}): StoreLock {
  const lockPath = join(root, 'lock');
  const guardPath = join(root, 'lock.break');
  const timeoutMs = opts.timeoutMs ?? defaultTimeoutMs;

  async function tryCreate(token: string): Promise<boolean> {
    try {
      await fsp.symlink(`${process.pid} ${token} ${myStart ?? ''}`.trim(), lockPath);
      return true;
    } catch (err) {
      if (isCode(err, 'EEXIST')) return false;
      throw err;
    }
  }

  async function breakStale(): Promise<boolean> {
    const seen = await readHolder(lockPath);
    if (!seen) return false;
    if (holderAlive(seen)) return false;
    // Take the break guard (a link, as the lock: exclusive, and possible on a full filesystem);
    // a guard left by a crashed breaker expires.
    try {
      await fsp.symlink(String(process.pid), guardPath);
    } catch (err) {
      if (!isCode(err, 'EEXIST')) throw err;
      const st = await fsp.lstat(guardPath).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > BREAK_GUARD_STALE_MS) await fsp.rm(guardPath, { force: true });
      return false;
    }
    try {
      const again = await readHolder(lockPath);
      if (again?.raw !== seen.raw) return false;
      await fsp.rm(lockPath, { force: true });
      return true;
    } finally {
      await fsp.rm(guardPath, { force: true });
    }
  }

  async function acquire(token: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let delay = 5;
    for (;;) {
      if (await tryCreate(token)) return;
      if (await breakStale()) continue;
      if (Date.now() > deadline) {
        const h = await readHolder(lockPath);
        throw new StrataError('LOCKED', `store ${root} is locked${h ? ` by process ${h.pid}` : ''}`, {
          hint: `if no strata process is running, remove ${lockPath}`,
        });
      }
      await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
      delay = Math.min(delay * 2, 200);
    }
  }

  async function release(token: string): Promise<void> {
    const h = await readHolder(lockPath);
    if (h && h.token === token) await fsp.rm(lockPath, { force: true });
  }

  async function withLock<T>(fn: () => Promise<T>): Promise<T> {
    if (held.getStore() === lockPath) return fn();
    // In-process queue first: one file-lock attempt per process at a time.
    const prev = queues.get(lockPath) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((r) => (done = r));
    const tail = prev.then(() => mine);
    queues.set(lockPath, tail);
    await prev.catch(() => undefined);
    const token = randomBytes(8).toString('hex');
    try {
      const asked = performance.now();
      await acquire(token);
      const taken = performance.now();
      try {
        await opts.checkpoint?.('lock-taken');
        return await held.run(lockPath, fn);
      } finally {
        await release(token);
        recordHold(taken - asked, performance.now() - taken);
      }
    } finally {
      done();
      if (queues.get(lockPath) === tail) queues.delete(lockPath);
    }
  }

  return { withLock, breakStale };
}
