import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { docker, peerAvailable } from '@strata/testing';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Interop: for negative goldens that Debian's Docker 20.10 (BuildKit frontend of that era) can
 * judge, its `dockerfile parse error line N` must name the same line as our error.txt.
 * (Its parser-level errors carry no line, and it predates heredocs/--link/--network, so those
 * cases are checked against BuildKit's source rules only.)
 */
const fixtures = fileURLToPath(new URL('../../../test-fixtures/dockerfile', import.meta.url));
// Not sent to Docker: err-from-no-args and err-from-two-args leave Docker 20.10's BuildKit with no
// stage, and its frontend then panics (dispatchStates.lastTarget, index out of range) and takes
// dockerd down for every other test. Their lines are checked by the goldens alone.
const CASES = [
  'err-arg-blank',
  'err-copy-one-arg',
  'err-duplicate-flag',
  'err-expose-empty',
  'err-healthcheck-duration',
  'err-healthcheck-type',
  'err-heredoc-chomp-blank',
  'err-invalid-stage-name',
  'err-mount-key',
  'err-mount-secret-from',
  'err-mount-type',
  'err-onbuild-from',
  'err-onbuild-onbuild',
  'err-shell-not-json',
  'err-string-flag-no-value',
  'err-unknown-flag',
  'err-unknown-flag-run',
  'err-unknown-instruction',
  'err-unknown-instruction-lower',
  'err-volume-empty',
  'err-workdir-empty',
];

async function dockerErrorLine(dir: string): Promise<number | undefined> {
  // dockerd is shared; retry a refused connection a few times.
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = await docker(['build', '--no-cache', '-t', 'strata-it-df/probe:latest', '.'], { cwd: dir });
    const out = r.stdout + r.stderr;
    if (/Cannot connect to the Docker daemon|failed to dial gRPC/.test(out)) {
      await new Promise((res) => setTimeout(res, 3000));
      continue;
    }
    expect(r.code).not.toBe(0);
    const m = /dockerfile parse error (?:on )?line (\d+)/.exec(out);
    return m ? Number(m[1]) : undefined;
  }
  throw new Error('dockerd kept refusing connections');
}

afterAll(async () => {
  await docker(['rmi', '-f', 'strata-it-df/probe:latest']);
});

describe.skipIf(!peerAvailable('docker'))('negative goldens: error line agrees with docker build', () => {
  it.each(CASES)('%s', async (name) => {
    const ours = /^Dockerfile:(\d+): /.exec(readFileSync(join(fixtures, name, 'error.txt'), 'utf8'));
    expect(ours).not.toBeNull();
    expect(await dockerErrorLine(join(fixtures, name))).toBe(Number(ours![1]));
  });
});
