#!/usr/bin/env node
// Benchmark of `strata build` against `docker build` (BuildKit) in the same run (not a test).
//   node tools/build-cli.mjs && node tools/bench/build.mjs [--files 20000] [--mib 64] [--runs 3] [--only copy|run]
// copy: a generated context of N small files plus M MiB of larger ones, `FROM scratch` + `COPY . /app`:
//   cold (empty store / --no-cache), unchanged rebuild, one file changed.
//   Targets: cold ≤ 0.5×, rebuild ≤ 0.25×, one-file ≤ 0.5× Docker's wall time; peak RSS < 300 MB.
// run: `FROM strata-test/busybox:latest` + 10 trivial RUN steps, cold and cached (target ≤ 1.0× each).
// Prints medians, each ratio and strata's peak RSS (/usr/bin/time -f %M). Docker images get the
// prefix strata-it-build/ and are removed at the end.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER, STRATA as BIN, measure, median, option } from './lib.mjs';

const FILES = option('files', 20_000);
const MIB = option('mib', 64);
const RUNS = option('runs', 3);
const ONLY = option('only', '');
const denv = { ...process.env, DOCKER_BUILDKIT: '1' };
const work = mkdtempSync(join(tmpdir(), 'strata-bench-build-'));
const TAG = 'strata-it-build/bench';

const strata = (root, ctx, extra = []) => measure(BIN, ['--root', root, 'build', '-q', '-t', 'bench:1', ...extra, ctx]);
const docker = (ctx, extra = []) => measure(DOCKER, ['build', '-q', '-t', TAG, ...extra, ctx], { env: denv });
let peak = 0;
const results = [];

/** One strata build, then the same build by Docker: both times into `into`, strata's RSS into `peak`. */
function pair(into, root, ctx, extra = []) {
  const x = strata(root, ctx, extra);
  into.s.push(x.ms);
  peak = Math.max(peak, x.rssMB);
  into.d.push(docker(ctx, extra).ms);
}

function report(name, s, d, target) {
  const ratio = s / d;
  results.push({ name, strataMs: Math.round(s), dockerMs: Math.round(d), ratio: Number(ratio.toFixed(3)), target, ok: ratio <= target });
  console.log(`${name.padEnd(22)} strata ${s.toFixed(0).padStart(7)} ms   docker ${d.toFixed(0).padStart(7)} ms   ratio ${ratio.toFixed(3)} (target ≤ ${target}) ${ratio <= target ? 'ok' : 'MISSED'}`);
}

function copyBench() {
  const ctx = join(work, 'ctx');
  mkdirSync(ctx, { recursive: true });
  for (let i = 0; i < FILES; i++) {
    const dir = join(ctx, 'src', `d${i % 200}`, `e${i % 7}`);
    if (i < 1400) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}.txt`), `file ${i}\n`.repeat(1 + (i % 20)));
  }
  mkdirSync(join(ctx, 'big'), { recursive: true });
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < MIB; i++) {
    for (let j = 0; j < chunk.length; j += 4) chunk.writeUInt32LE((i * 2654435761 + j * 40503) >>> 0, j);
    writeFileSync(join(ctx, 'big', `blob${i % 8}.bin`), chunk, { flag: i < 8 ? 'w' : 'a' });
  }
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY . /app\n');
  execFileSync('sh', ['-c', `cat $(find ${ctx} -type f) > /dev/null`]);
  // A context is normally older than the build: files written < 2 s before they are hashed are
  // (correctly) re-hashed on the next build (racy-clean rule), which is not what we measure here.
  execFileSync('sleep', ['3']);
  const cold = { s: [], d: [] };
  const warm = { s: [], d: [] };
  const one = { s: [], d: [] };
  for (let r = 0; r < RUNS; r++) {
    const root = join(work, `store-${r}`);
    // strata's store is new each round (cold); Docker's cache is bypassed with --no-cache
    const x = strata(root, ctx);
    cold.s.push(x.ms);
    peak = Math.max(peak, x.rssMB);
    cold.d.push(docker(ctx, ['--no-cache']).ms);
    // An unchanged rebuild takes ~0.1 s (strata) and ~0.5 s (Docker): alternate several of each,
    // so the median is not one noisy run.
    for (let k = 0; k < 5; k++) pair(warm, root, ctx);
    // Unique per invocation: the context is generated the same every time, and dockerd's cache
    // outlives this run (a repeated change would be a cache hit for Docker).
    appendFileSync(join(ctx, 'src/d0/e0/f0.txt'), `change ${r} ${process.pid} ${Date.now()}\n`);
    execFileSync('sleep', ['3']);
    pair(one, root, ctx);
    rmSync(root, { recursive: true, force: true });
  }
  report('copy cold', median(cold.s), median(cold.d), 0.5);
  report('copy unchanged', median(warm.s), median(warm.d), 0.25);
  report('copy one-file-changed', median(one.s), median(one.d), 0.5);
}

function runBench() {
  const ctx = join(work, 'runctx');
  mkdirSync(ctx, { recursive: true });
  const steps = Array.from({ length: 10 }, (_, i) => `RUN echo step${i} > /s${i}`).join('\n');
  writeFileSync(join(ctx, 'Dockerfile'), `FROM strata-test/busybox:latest\n${steps}\n`);
  const root = join(work, 'store-run');
  const tar = join(work, 'busybox.tar');
  execFileSync('sh', ['-c', `${DOCKER} save strata-test/busybox:latest > ${tar}`]);
  execFileSync(BIN, ['--root', root, 'image', 'load', '-i', tar], { stdio: 'ignore' });
  const cold = { s: [], d: [] };
  const cached = { s: [], d: [] };
  for (let r = 0; r < RUNS; r++) {
    pair(cold, root, ctx, ['--no-cache']);
    // A cached build takes ~70 ms: alternate several of each, so the median is not one noisy run.
    for (let k = 0; k < 5; k++) pair(cached, root, ctx);
  }
  report('run x10 cold', median(cold.s), median(cold.d), 1.0);
  report('run x10 cached', median(cached.s), median(cached.d), 1.0);
}

try {
  if (ONLY !== 'run') copyBench();
  if (ONLY !== 'copy') runBench();
  console.log(`strata peak RSS ${peak.toFixed(0)} MB (target < 300 MB) ${peak < 300 ? 'ok' : 'MISSED'}`);
  console.log(JSON.stringify({ files: FILES, mib: MIB, runs: RUNS, results, peakRssMb: Math.round(peak) }));
} finally {
  spawnSync(DOCKER, ['rmi', '-f', TAG], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}
