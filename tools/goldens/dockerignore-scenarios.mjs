#!/usr/bin/env node
// Regenerates test-fixtures/dockerignore/scenarios.expected.json with the real engine: for every
// scenario of scenarios.json, one `docker build` of `FROM scratch` + `COPY . /ctx/` (BuildKit),
// exported with `-o type=tar` (a scratch image has no shell to list it with), and the names under
// ctx/ recorded. All scenarios run in one loop; they take a fraction of a second each.
//   DOCKER=/usr/bin/docker node tools/goldens/dockerignore-scenarios.mjs [--via-image]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { layout } from './dockerignore-layout.mjs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extract } from 'tar-stream';
import { Readable } from 'node:stream';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '../../test-fixtures/dockerignore');
const DOCKER = process.env.DOCKER ?? '/usr/bin/docker';
const { scenarios } = JSON.parse(readFileSync(join(fixtures, 'scenarios.json'), 'utf8'));

async function tarNames(buf) {
  const names = [];
  const ex = extract();
  const done = new Promise((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      names.push(h.type === 'directory' && !h.name.endsWith('/') ? `${h.name}/` : h.name);
      stream.on('end', next);
      stream.resume();
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  Readable.from([buf]).pipe(ex);
  await done;
  return names;
}

// --via-image: build a tagged image instead, then `docker create` + `docker export` it (slower; the
// listing must come out the same — a check that -o type=tar shows exactly what the image holds).
const viaImage = process.argv.includes('--via-image');
function buildAndExport(sc, dockerfile, context) {
  const tag = `strata-it-ctx/scenario:${sc.name}`;
  const env = { ...process.env, DOCKER_BUILDKIT: '1' };
  const b = spawnSync(DOCKER, ['build', '-q', '--no-cache', '-f', dockerfile, '-t', tag, context], { env });
  if (b.status !== 0) return b;
  const id = execFileSync(DOCKER, ['create', tag, 'x'], { encoding: 'utf8' }).trim();
  try {
    return spawnSync(DOCKER, ['export', id], { maxBuffer: 64 << 20 });
  } finally {
    spawnSync(DOCKER, ['rm', id]);
    spawnSync(DOCKER, ['rmi', tag]);
  }
}

const version = execFileSync(DOCKER, ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8' }).trim();
const results = {};
for (const sc of scenarios) {
  const root = mkdtempSync(join(tmpdir(), 'strata-ctx-golden-'));
  try {
    const { context, dockerfile } = layout(root, sc);
    const r = viaImage ? buildAndExport(sc, dockerfile, context) : spawnSync(DOCKER, ['build', '-q', '--no-cache', '-f', dockerfile, '-o', 'type=tar,dest=-', context], {
      env: { ...process.env, DOCKER_BUILDKIT: '1' }, maxBuffer: 64 << 20,
    });
    if (r.status !== 0) {
      const lines = r.stderr.toString().trim().split('\n');
      results[sc.name] = { error: lines[lines.length - 1] };
    } else {
      const names = (await tarNames(r.stdout))
        .filter((n) => n.startsWith('ctx/') && n !== 'ctx/')
        .map((n) => n.slice(4))
        .sort();
      results[sc.name] = { files: names };
    }
    process.stderr.write(`${sc.name}: ${results[sc.name].error ?? `${results[sc.name].files.length} entries`}\n`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
const out = join(fixtures, viaImage ? 'scenarios.expected.via-image.json' : 'scenarios.expected.json');
writeFileSync(out, `${JSON.stringify({
  generatedBy: 'tools/goldens/dockerignore-scenarios.mjs',
  engine: `docker ${version} (DOCKER_BUILDKIT=1, FROM scratch + COPY . /ctx/, ${viaImage ? 'docker create + docker export' : '-o type=tar'})`,
  results,
}, null, 1)}\n`);
