import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const STRATA_BIN = `${REPO_ROOT}dist/strata.cjs`;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  /** stdout as UTF-8 */
  out: string;
}

export interface RunOptions {
  root?: string;
  input?: Uint8Array | string;
  env?: Record<string, string>;
  cwd?: string;
}

/** Run the built `strata` bundle (argv as given; `--root` added when `root` is set), reaching nothing beyond loopback. */
export function runStrata(args: string[], opts: RunOptions = {}): Promise<CliResult> {
  const argv = opts.root ? ['--root', opts.root, ...args] : args;
  return runCommand(process.execPath, [STRATA_BIN, ...argv], { ...opts, env: { ...LOOPBACK_ONLY_ENV, ...opts.env } });
}

/**
 * Tests reach nothing beyond loopback. A strata command that tries anyway (a FROM of an image the
 * store lacks asks docker.io) meets a proxy on a loopback port where nothing listens, and fails
 * at once; loopback itself goes direct. A test that needs its own proxy sets these in `env`.
 * Only strata gets them: other tools (curl to a container's address) go their own way.
 */
export const LOOPBACK_ONLY_ENV: Record<string, string> = {
  HTTP_PROXY: 'http://127.0.0.1:9',
  HTTPS_PROXY: 'http://127.0.0.1:9',
  http_proxy: 'http://127.0.0.1:9',
  https_proxy: 'http://127.0.0.1:9',
  NO_PROXY: 'localhost,127.0.0.1,::1,127.0.0.0/8',
  no_proxy: 'localhost,127.0.0.1,::1,127.0.0.0/8',
};

export function runCommand(cmd: string, args: string[], opts: Omit<RunOptions, 'root'> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.stdin.on('error', () => {});
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out);
      resolve({ code, signal, stdout, out: stdout.toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}
