// Runs once before the test files: makes sure the CLI bundle exists and, where Docker is installed
// but no engine answers, starts dockerd (tests need a real engine; CI=true makes a missing one fatal).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function dockerAnswers(): boolean {
  try {
    execFileSync('/usr/bin/docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

export default async function setup(): Promise<void> {
  if (!existsSync(`${root}dist/strata.cjs`)) execFileSync('node', [`${root}tools/build-cli.mjs`], { stdio: 'inherit' });
  if (existsSync('/usr/bin/docker') && existsSync('/usr/bin/dockerd') && !dockerAnswers() && process.getuid?.() === 0) {
    const log = openSync('/tmp/strata-test-dockerd.log', 'a');
    spawn('/usr/bin/dockerd', ['--iptables=false'], { detached: true, stdio: ['ignore', log, log] }).unref();
    for (let i = 0; i < 60 && !dockerAnswers(); i++) await new Promise((r) => setTimeout(r, 500));
  }
}
