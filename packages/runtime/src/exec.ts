import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { StrataError } from '@strata/errors';
import { findRuntime } from './find-runtime';
import { readFileInLayers } from './layered-lookup';
import { buildProcess } from './spec';
import type { SecurityOptions } from './security';
import { resolveUser } from './user';

export interface ExecOptions {
  runtime?: string;
  /** The `--root` state dir and id the container was started with. */
  stateDir: string;
  id: string;
  args: string[];
  /** The whole environment of the new process (PATH and HOME get defaults when missing). */
  env: string[];
  cwd?: string;
  /** `uid[:gid]` / `name[:group]`, resolved against the container's view (`viewDirs`, top → bottom). */
  user?: string;
  viewDirs: string[];
  terminal?: boolean;
  /** The container's capabilities and no-new-privileges (its seccomp filter applies by itself). */
  security?: SecurityOptions;
  stdin?: 'inherit' | 'ignore' | Readable;
  stdout?: 'inherit' | 'ignore' | Writable;
  stderr?: 'inherit' | 'ignore' | Writable;
}

/**
 * Run another process in a running container: `runc exec --process` with a complete process
 * spec (user, groups and capabilities computed as for the container's own process, not
 * inherited from it). Resolves to the process's exit code.
 */
export async function execProcess(o: ExecOptions): Promise<number> {
  const runtime = findRuntime(o.runtime);
  const read = (p: string) => readFileInLayers(o.viewDirs, p)?.toString('utf8');
  const user = resolveUser(o.user ?? '', { passwd: read('/etc/passwd'), group: read('/etc/group') });
  const env = [...o.env];
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home || '/'}`);
  const dir = mkdtempSync(join(tmpdir(), 'strata-exec-'));
  const processFile = join(dir, 'process.json');
  writeFileSync(processFile, JSON.stringify(buildProcess({ args: o.args, env, cwd: o.cwd || '/', user, terminal: !!o.terminal, security: o.security })));
  const mode = (s: unknown) => (typeof s === 'object' ? 'pipe' : ((s as 'inherit' | 'ignore' | undefined) ?? 'inherit'));
  try {
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(runtime, ['--root', o.stateDir, 'exec', '--process', processFile, o.id], { stdio: [mode(o.stdin ?? 'ignore'), mode(o.stdout), mode(o.stderr)] });
      if (typeof o.stdin === 'object') o.stdin.pipe(child.stdin!).on('error', () => {});
      if (typeof o.stdout === 'object') child.stdout!.pipe(o.stdout, { end: false });
      if (typeof o.stderr === 'object') child.stderr!.pipe(o.stderr, { end: false });
      child.on('error', (err) => reject(new StrataError('RUNTIME_ERROR', `cannot run ${runtime}: ${err.message}`, { cause: err })));
      child.on('close', (code, sig) => resolve(code ?? (sig === 'SIGKILL' ? 137 : 128)));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
