// Lays out one scenario of test-fixtures/dockerignore/scenarios.json in a directory; shared by the
// golden generator (dockerignore-scenarios.mjs) and the test that replays the goldens.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { base } = JSON.parse(readFileSync(join(here, '../../test-fixtures/dockerignore/scenarios.json'), 'utf8'));

/** Lay out one scenario: returns { context, dockerfile } (shared with the replaying test). */
export function layout(root, scenario) {
  const context = join(root, 'context');
  mkdirSync(context, { recursive: true });
  for (const [p, v] of Object.entries({ ...base, ...(scenario.extra ?? {}) })) {
    const full = join(context, p);
    mkdirSync(dirname(full), { recursive: true });
    if (typeof v === 'string') writeFileSync(full, v);
    else if (v.symlink) symlinkSync(v.symlink, full);
    else if (v.dir) mkdirSync(full, { recursive: true });
  }
  if (scenario.ignore !== null) writeFileSync(join(context, '.dockerignore'), scenario.ignore);
  const dockerfile = scenario.dockerfile ? join(context, scenario.dockerfile) : join(root, 'df', scenario.dockerfileName ?? 'Dockerfile');
  mkdirSync(dirname(dockerfile), { recursive: true });
  writeFileSync(dockerfile, 'FROM scratch\nCOPY . /ctx/\n');
  if (scenario.dockerfileIgnore !== undefined) writeFileSync(`${dockerfile}.dockerignore`, scenario.dockerfileIgnore);
  return { context, dockerfile };
}

