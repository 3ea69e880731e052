// Runs once before the test files: makes sure the CLI bundle is built from the current sources and,
// where Docker is installed but no engine answers, starts dockerd (tests need a real engine;
// CI=true makes a missing one fatal).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, openSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const BUNDLE = `${root}dist/strata-bundle.cjs`;

/**
 * The files the bundle is built from, newest first found: every file under packages/∗/src (but
 * tests), the package manifests, the lock file, the build script and the launchers. ~250 stats.
 */
function newestSourceMtime(): number {
  const files = ['package-lock.json', 'tools/build-cli.mjs', 'tools/cli-launcher.cjs', 'tools/cli-launcher.sh'].map((f) => `${root}${f}`);
  for (const pkg of readdirSync(`${root}packages`)) {
    const dir = `${root}packages/${pkg}`;
    files.push(`${dir}/package.json`);
    if (!existsSync(`${dir}/src`)) continue;
    for (const rel of readdirSync(`${dir}/src`, { recursive: true }) as string[]) {
      if (!rel.endsWith('.test.ts')) files.push(`${dir}/src/${rel}`);
    }
  }
  let newest = 0;
  for (const f of files) {
    const st = statSync(f, { throwIfNoEntry: false });
    if (st?.isFile() && st.mtimeMs > newest) newest = st.mtimeMs;
  }
  return newest;
}

/** Missing, or older than a source (same timestamp too: it may have been read before that write). */
function bundleStale(): boolean {
  const built = statSync(BUNDLE, { throwIfNoEntry: false });
  return built === undefined || !existsSync(`${root}dist/strata.cjs`) || newestSourceMtime() >= built.mtimeMs;
}

function dockerAnswers(): boolean {
  try {
    execFileSync('/usr/bin/docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

export default async function setup(): Promise<void> {
  // CLI tests run dist/strata.cjs: a bundle older than the sources would test old code.
  if (bundleStale()) execFileSync(process.execPath, [`${root}tools/build-cli.mjs`], { stdio: 'inherit' });
  if (existsSync('/usr/bin/docker') && existsSync('/usr/bin/dockerd') && !dockerAnswers() && process.getuid?.() === 0) {
    const log = openSync('/tmp/strata-test-dockerd.log', 'a');
    // the engine keeps the real clock when the tests run under libfaketime (tools/test-elsewhen.sh)
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'LD_PRELOAD' && !k.startsWith('FAKETIME')));
    spawn('/usr/bin/dockerd', ['--iptables=false'], { detached: true, stdio: ['ignore', log, log], env }).unref();
    for (let i = 0; i < 60 && !dockerAnswers(); i++) await new Promise((r) => setTimeout(r, 500));
  }
}
