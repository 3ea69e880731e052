#!/usr/bin/env node
// Benchmark (issue #2): `strata image inspect` and `strata image ls` with 100 images in the store,
// against `docker image inspect` / `docker image ls` measured in the same run. Target ≤ 3×.
// Node start-up is reported separately (NODE_EXTRA_CA_CERTS costs ~50 ms a start; the dist/strata
// launcher, which is what is timed, hands it to strata to read only when it opens a TLS connection).
// Usage: node tools/build-cli.mjs && node tools/bench/inspect-ls.mjs [--images 100] [--runs 20] [--json FILE]
// Needs dockerd and /usr/bin/docker; uses hyperfine when installed. Not part of CI's pass/fail.
// With --json FILE, the results for tools/bench/table.mjs (one row per command; startup.mjs has
// the stricter ≤ 1.0× target of issue #15 for the same commands).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER, DOCKER_BASE, STRATA, ensureDockerBase, loadAverage, measure, option as arg, resultRow, sh, writeResults } from './lib.mjs';

const BASE = DOCKER_BASE;
const PREFIX = 'strata-it-inspect/bench';
const N = arg('images', 100);
const RUNS = arg('runs', 20);
const JSON_OUT = arg('json', '');
const TARGET = 3;

/** Median wall time (ms) of a command, with hyperfine when available. */
function time(label, argv, env = {}) {
  const cmdEnv = { ...process.env, ...env };
  if (!spawnSync('hyperfine', ['--version'], { stdio: 'ignore' }).error) {
    const dir = mkdtempSync(join(tmpdir(), 'strata-bench-'));
    const json = join(dir, 'h.json');
    const quoted = argv.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    spawnSync('hyperfine', ['-N', '--warmup', '2', '--runs', String(RUNS), '--export-json', json, quoted], { env: cmdEnv, stdio: 'ignore' });
    const r = JSON.parse(readFileSync(json, 'utf8')).results[0];
    rmSync(dir, { recursive: true, force: true });
    return { label, ms: r.median * 1000, min: r.min * 1000, cpu: (r.user + r.system) * 1000 };
  }
  const samples = [];
  for (let i = 0; i < RUNS + 2; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(argv[0], argv.slice(1), { env: cmdEnv, stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
    if (i >= 2) samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { label, ms: samples[Math.floor(samples.length / 2)], min: samples[0], cpu: NaN };
}

/** Peak RSS in MB of one run, via GNU time. */
function peakRss([cmd, ...argv]) {
  return measure(cmd, argv).rssMB.toFixed(1);
}

function main() {
  ensureDockerBase();
  const work = mkdtempSync(join(tmpdir(), 'strata-bench-inspect-'));
  const root = join(work, 'store');
  const tags = Array.from({ length: N }, (_, i) => `${PREFIX}:${i}`);
  const loadAtStart = loadAverage();
  try {
    process.stdout.write(`building ${N} tiny images FROM ${BASE} …\n`);
    for (let i = 0; i < N; i++) {
      sh(DOCKER, ['build', '-q', '-t', tags[i], '-'], { input: `FROM ${BASE}\nLABEL bench.n="${i}"\nENV N=${i}\n` });
    }
    sh(DOCKER, ['save', '-o', join(work, 'all.tar'), BASE, ...tags]);
    sh(STRATA, ['--root', root, 'image', 'load', '-i', join(work, 'all.tar')]);

    const one = tags[Math.floor(N / 2)];
    const strata = (...a) => [STRATA, '--root', root, ...a];
    const results = [];
    const pair = (name, ours, theirs) => {
      const a = time(`strata ${name}`, ours);
      const b = time(`docker ${name}`, theirs);
      // CPU time (user+sys, mean) as well: on a busy machine wall time is mostly waiting.
      results.push({ name, strata: a.ms, docker: b.ms, ratio: a.ms / b.ms, minRatio: a.min / b.min, cpuRatio: a.cpu / b.cpu, rss: peakRss(ours), peer: theirs.filter((x) => !x.startsWith(PREFIX)).map((x) => (x === DOCKER ? 'docker' : x)).join(' ') });
    };
    pair(`image inspect (1 of ${N})`, strata('image', 'inspect', one), [DOCKER, 'image', 'inspect', one]);
    pair(`image inspect (all ${N})`, strata('image', 'inspect', ...tags), [DOCKER, 'image', 'inspect', ...tags]);
    pair('image inspect --format {{.Id}}', strata('image', 'inspect', '--format', '{{.Id}}', one), [DOCKER, 'image', 'inspect', '--format', '{{.Id}}', one]);
    pair('image history', strata('image', 'history', one), [DOCKER, 'history', one]);
    const ls = spawnSync(STRATA, ['--root', root, 'image', 'ls'], { stdio: 'ignore' });
    if (ls.status === 0) pair(`image ls (${N + 1} images)`, strata('image', 'ls'), [DOCKER, 'image', 'ls']);
    else process.stdout.write('image ls: not available in this build (skipped)\n');

    const nodeWith = time('node -e 0 (with NODE_EXTRA_CA_CERTS)', [process.execPath, '-e', '0']);
    const nodeWithout = time('node -e 0 (without)', [process.execPath, '-e', '0'], { NODE_EXTRA_CA_CERTS: '' });
    const version = time('strata --version', [STRATA, '--version']);

    process.stdout.write(`\n${'operation'.padEnd(36)}${'strata ms'.padStart(11)}${'docker ms'.padStart(11)}${'ratio'.padStart(8)}${'min ratio'.padStart(11)}${'CPU ratio'.padStart(11)}${'strata RSS MB'.padStart(15)}\n`);
    for (const r of results) {
      process.stdout.write(`${r.name.padEnd(36)}${r.strata.toFixed(1).padStart(11)}${r.docker.toFixed(1).padStart(11)}${`${r.ratio.toFixed(2)}×`.padStart(8)}${`${r.minRatio.toFixed(2)}×`.padStart(11)}${(Number.isFinite(r.cpuRatio) ? `${r.cpuRatio.toFixed(2)}×` : '-').padStart(11)}${String(r.rss).padStart(15)}${r.ratio <= TARGET ? '' : `   (over the ${TARGET}× target)`}\n`);
    }
    process.stdout.write('(ratio: medians; min ratio: fastest runs, steadier on a busy machine; CPU: user+sys of the client process only, with hyperfine — dockerd\'s work is not counted)\n');
    process.stdout.write(`\nnode start-up: ${nodeWith.ms.toFixed(1)} ms (min ${nodeWith.min.toFixed(1)}) with NODE_EXTRA_CA_CERTS, ${nodeWithout.ms.toFixed(1)} ms (min ${nodeWithout.min.toFixed(1)}) without (${process.env.NODE_EXTRA_CA_CERTS ? 'set' : 'not set'} in this environment)\n`);
    process.stdout.write(`strata --version (launcher, start-up, bundle load; the launcher keeps NODE_EXTRA_CA_CERTS off start-up): ${version.ms.toFixed(1)} ms (min ${version.min.toFixed(1)})\n`);
    const rows = results.map((r) =>
      resultRow(r.name, r.strata, r.peer, r.docker, TARGET, {
        rssMb: Math.round(Number(r.rss)),
        minRatio: Number(r.minRatio.toFixed(3)),
        ...(Number.isFinite(r.cpuRatio) ? { cpuRatio: Number(r.cpuRatio.toFixed(3)) } : {}),
      }),
    );
    writeResults(JSON_OUT, {
      bench: 'inspect-ls',
      images: N,
      runs: RUNS,
      nodeMs: { caSet: Math.round(nodeWith.ms), caUnset: Math.round(nodeWithout.ms) },
      versionMs: Math.round(version.ms),
      load: { start: loadAtStart, end: loadAverage() },
      results: rows,
    });
  } finally {
    spawnSync(DOCKER, ['rmi', ...tags], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exitCode = 2;
}
