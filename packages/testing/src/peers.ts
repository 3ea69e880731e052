import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { runCommand, type CliResult, type RunOptions } from './cli';
import { requireOrSkip } from './require';

/** Debian's docker client: it has the classic `build` with DOCKER_BUILDKIT=1 (the newer client on PATH has no buildx). */
export const DOCKER = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';

const cache = new Map<string, string | undefined>();

function probe(name: string, check: () => void): string | undefined {
  if (!cache.has(name)) {
    try {
      check();
      cache.set(name, undefined);
    } catch (err) {
      cache.set(name, `${name} is not available: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return cache.get(name);
}

const PEER_CHECKS: Record<string, () => void> = {
  docker: () => execFileSync(DOCKER, ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe', timeout: 20_000 }),
  skopeo: () => execFileSync('skopeo', ['--version'], { stdio: 'pipe' }),
  umoci: () => execFileSync('umoci', ['--version'], { stdio: 'pipe' }),
  runc: () => execFileSync('runc', ['--version'], { stdio: 'pipe' }),
  crun: () => execFileSync('crun', ['--version'], { stdio: 'pipe' }),
  'docker-registry': () => execFileSync('sh', ['-c', 'command -v docker-registry'], { stdio: 'pipe' }),
};

/**
 * Whether a peer tool can be used by interop tests. Where it cannot, tests skip with the reason
 * printed — except under CI=true, where a missing peer is an error (see `requireOrSkip`).
 */
export function peerAvailable(name: keyof typeof PEER_CHECKS | string): boolean {
  const check = PEER_CHECKS[name] ?? (() => execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'pipe' }));
  const reason = probe(name, check);
  return requireOrSkip(reason === undefined, reason ?? name);
}

export function docker(args: string[], opts: Omit<RunOptions, 'root'> = {}): Promise<CliResult> {
  return runCommand(DOCKER, args, { ...opts, env: { DOCKER_BUILDKIT: '1', ...opts.env } });
}

/** Run docker and throw with its stderr when it fails. */
export async function dockerOk(args: string[], opts: Omit<RunOptions, 'root'> = {}): Promise<CliResult> {
  const r = await docker(args, opts);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r;
}
