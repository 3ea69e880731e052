import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxRootfsTar, runCommand, runStrata, type CliResult, type RegistryServer } from '@strata/testing';

/** Environment for strata and docker/skopeo against `reg`: its own config.json, its CA (tls). */
export function envFor(reg: RegistryServer, configDir: string, extra: Record<string, string> = {}): Record<string, string> {
  mkdirSync(configDir, { recursive: true });
  return {
    DOCKER_CONFIG: configDir,
    // the test clock and zone are pinned; registries need none of it
    TZ: 'UTC',
    ...(reg.certsDir ? { STRATA_CERTS_DIR: reg.certsDir } : {}),
    ...extra,
  };
}

/** Run strata and fail with its stderr when it exits non-zero. */
export async function strataOk(args: string[], root: string, env: Record<string, string>, input?: string): Promise<CliResult> {
  const r = await runStrata(args, { root, env, input });
  if (r.code !== 0) throw new Error(`strata ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r;
}

/** skopeo's TLS and credential flags for `reg`: `--src-…` / `--dest-…` / plain (inspect). */
export function skopeoFlags(reg: RegistryServer, side: 'src' | 'dest' | '', authfile: string): string[] {
  const p = side ? `--${side}-` : '--';
  const out: string[] = [];
  if (reg.mode === 'tls') out.push(`${p}cert-dir=${join(reg.certsDir!, reg.host)}`);
  else out.push(`${p}tls-verify=false`);
  if (reg.mode !== 'plain') out.push(`${p}authfile=${authfile}`);
  return out;
}

export async function skopeo(args: string[]): Promise<CliResult> {
  const r = await runCommand('skopeo', args);
  if (r.code !== 0) throw new Error(`skopeo ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r;
}

/** An OCI layout's blobs (digest → size) and its index.json's top manifest digest. */
export function layoutContents(dir: string): { top: string; blobs: Record<string, number> } {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  const blobs: Record<string, number> = {};
  for (const n of readdirSync(join(dir, 'blobs', 'sha256'))) blobs[`sha256:${n}`] = readFileSync(join(dir, 'blobs', 'sha256', n)).length;
  return { top: index.manifests[index.manifests.length - 1].digest, blobs };
}

/** A store with the busybox base imported as `tag` (with CMD sh, as the official image). */
export async function storeWithBusybox(root: string, tag: string): Promise<void> {
  const r = await runStrata(['image', 'import', '--change', 'CMD ["sh"]', busyboxRootfsTar(), tag], { root });
  if (r.code !== 0) throw new Error(`import: ${r.stderr}`);
}

/** A fake `docker-credential-NAME` on a PATH directory: answers `get` with the user and password, logs each call. */
export function fakeHelper(binDir: string, name: string, user: string, password: string, logFile: string): void {
  mkdirSync(binDir, { recursive: true });
  const script = `#!/bin/sh
read -r server
echo "$1 $server" >> ${JSON.stringify(logFile)}
case "$1" in
  get) printf '%s' ${shellQuote(JSON.stringify({ ServerURL: 'SERVER', Username: user, Secret: password }))} | sed "s|SERVER|$server|" ;;
  *) cat >/dev/null ;;
esac
`;
  writeFileSync(join(binDir, `docker-credential-${name}`), script, { mode: 0o755 });
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Blob upload requests (PATCH and PUT on blobs/uploads) in a registry log. */
export function uploads(log: string): number {
  let n = 0;
  for (const line of log.split('\n')) if (/"(PATCH|PUT) \/v2\/[^ ]*\/blobs\/uploads\//.test(line)) n++;
  return n;
}

export function hasProgram(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
