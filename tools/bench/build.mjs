#!/usr/bin/env node
// Benchmark of `strata build` against `docker build` (BuildKit) in the same run (not a test).
//   node tools/build-cli.mjs && node tools/bench/build.mjs [--files 20000] [--mib 64] [--scales 1,10]
//        [--runs 3] [--only copy|run] [--settle SECONDS] [--json FILE]
// copy: a generated context of N small files plus M MiB of larger ones, `FROM scratch` + `COPY . /app`,
//   at each scale (10: ten times the files and the bytes): cold (empty store / --no-cache),
//   unchanged rebuild, one file changed. Targets (issue #15): cold ≤ 0.2× Docker and ≤ 2.5× of
//   `tar -c . | sha256sum` of the same context; unchanged and one-file ≤ 0.25× Docker; peak RSS
//   < 300 MB; time linear in files and bytes (the 10× line shows each time over the 1× one).
// run: `FROM strata-test/busybox:latest` + 10 trivial RUN steps, cold and cached (target ≤ 1.0× each).
// Every pair alternates which goes first; medians; strata's peak RSS from /usr/bin/time -f %M.
// Docker images get the prefix strata-it-build/ and are removed at the end. With --json, the
// results are written there for tools/bench/table.mjs (the README's performance table).
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER, STRATA as BIN, inTurns, measure, median, option, settle } from './lib.mjs';

const FILES = option('files', 20_000);
const MIB = option('mib', 64);
const RUNS = option('runs', 3);
const ONLY = option('only', '');
const SCALES = String(option('scales', '1')).split(',').map(Number);
const SETTLE = option('settle', 0);
const JSON_OUT = option('json', '');
const denv = { ...process.env, DOCKER_BUILDKIT: '1' };
const work = mkdtempSync(join(tmpdir(), 'strata-bench-build-'));
const TAG = 'strata-it-build/bench';
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
const loadAtStart = load();

const strata = (root, ctx, extra = []) => measure(BIN, ['--root', root, 'build', '-q', '-t', 'bench:1', ...extra, ctx]);
const docker = (ctx, extra = []) => measure(DOCKER, ['build', '-q', '-t', TAG, ...extra, ctx], { env: denv });
const tarSha = (ctx) => measure('sh', ['-c', `tar -C '${ctx}' -cf - . | sha256sum`]);
let peak = 0;
const results = [];

/** One strata build and the same build by Docker, in the order the round says: times into `into`, strata's RSS into `peak`. */
function pair(into, round, root, ctx, extra = [], dockerExtra = extra) {
  const s = () => {
    const x = strata(root, ctx, extra);
    into.s.push(x.ms);
    peak = Math.max(peak, x.rssMB);
    into.rss = Math.max(into.rss ?? 0, x.rssMB);
  };
  const d = () => into.d.push(docker(ctx, dockerExtra).ms);
  inTurns(round, s, d);
}

function report(name, s, d, target, peer = 'docker build', extra = {}) {
  const ratio = s / d;
  results.push({ name, strataMs: Math.round(s), peer, peerMs: Math.round(d), ratio: Number(ratio.toFixed(3)), target, ok: ratio <= target, ...extra });
  console.log(
    `${name.padEnd(30)} strata ${s.toFixed(0).padStart(7)} ms   ${peer} ${d.toFixed(0).padStart(7)} ms   ratio ${ratio.toFixed(3)} (target ≤ ${target}) ${ratio <= target ? 'ok' : 'MISSED'}`,
  );
}

/** The context: `files` small files in 1,400 directories, and `mib` MiB in 8 larger files. */
function makeContext(ctx, files, mib) {
  mkdirSync(ctx, { recursive: true });
  const dirs = Math.min(1400, files);
  for (let i = 0; i < files; i++) {
    const dir = join(ctx, 'src', `d${i % 200}`, `e${i % 7}`);
    if (i < dirs) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}.txt`), `file ${i}\n`.repeat(1 + (i % 20)));
  }
  mkdirSync(join(ctx, 'big'), { recursive: true });
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < mib; i++) {
    for (let j = 0; j < chunk.length; j += 4) chunk.writeUInt32LE((i * 2654435761 + j * 40503) >>> 0, j);
    writeFileSync(join(ctx, 'big', `blob${i % 8}.bin`), chunk, { flag: i < 8 ? 'w' : 'a' });
  }
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY . /app\n');
  // into the page cache, as a context one works on is
  execFileSync('sh', ['-c', `find '${ctx}' -type f -print0 | xargs -0 cat > /dev/null`]);
  // A context is normally older than the build: files written < 2 s before they are hashed are
  // (correctly) re-hashed on the next build (racy-clean rule), which is not what we measure here.
  execFileSync('sleep', ['3']);
}

function copyBench(scale) {
  const files = FILES * scale;
  const mib = MIB * scale;
  const label = scale === 1 ? '' : ` ${scale}×`;
  const ctx = join(work, `ctx-${scale}`);
  makeContext(ctx, files, mib);
  // Docker's cold builds create every file of the context in its snapshot (see settle in lib.mjs)
  settle(SETTLE);
  const cold = { s: [], d: [] };
  const tar = [];
  const coldForTar = [];
  const warm = { s: [], d: [] };
  const one = { s: [], d: [] };
  // An unchanged rebuild takes ~0.1 s (strata) and ~0.5 s (Docker) at 1×: several of each, alternating.
  const warmPairs = scale === 1 ? 5 : 3;
  for (let r = 0; r < RUNS; r++) {
    const root = join(work, `store-${scale}-${r}`);
    // strata's store is new each round (cold); Docker's cache is bypassed with --no-cache
    pair(cold, r, root, ctx, [], ['--no-cache']);
    // the floor: read and pack the context, and hash the tar (strata's cold build does that and
    // writes the layer); a cold strata build again beside it, so the pair shares the load
    const again = join(work, `store-${scale}-${r}-again`);
    inTurns(
      r,
      () => tar.push(tarSha(ctx).ms),
      () => coldForTar.push(strata(again, ctx).ms),
    );
    rmSync(again, { recursive: true, force: true });
    for (let k = 0; k < warmPairs; k++) pair(warm, r + k, root, ctx);
    // Unique per invocation: the context is generated the same every time, and dockerd's cache
    // outlives this run (a repeated change would be a cache hit for Docker).
    appendFileSync(join(ctx, 'src/d0/e0/f0.txt'), `change ${r} ${process.pid} ${Date.now()}\n`);
    execFileSync('sleep', ['3']);
    pair(one, r, root, ctx);
    rmSync(root, { recursive: true, force: true });
  }
  const common = { scale, files, mib };
  report(`copy cold${label}`, median(cold.s), median(cold.d), 0.2, 'docker build', { ...common, rssMb: Math.round(cold.rss) });
  report(`copy cold${label} vs tar|sha256sum`, median(coldForTar), median(tar), 2.5, 'tar -c | sha256sum', common);
  report(`copy unchanged${label}`, median(warm.s), median(warm.d), 0.25, 'docker build', { ...common, rssMb: Math.round(warm.rss) });
  report(`copy one-file-changed${label}`, median(one.s), median(one.d), 0.25, 'docker build', { ...common, rssMb: Math.round(one.rss) });
  rmSync(ctx, { recursive: true, force: true });
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
    pair(cold, r, root, ctx, ['--no-cache']);
    // A cached build takes ~70 ms: alternate several of each, so the median is not one noisy run.
    for (let k = 0; k < 5; k++) pair(cached, r + k, root, ctx);
  }
  report('run x10 cold', median(cold.s), median(cold.d), 1.0);
  report('run x10 cached', median(cached.s), median(cached.d), 1.0);
}

/** Each copy time at a larger scale over the same time at 1× (files and bytes both grew by the scale: linear is ≈ the scale). */
function linearity() {
  for (const r of results.filter((x) => x.scale !== undefined && x.scale !== 1 && x.peer === 'docker build')) {
    const base = results.find((x) => x.scale === 1 && x.name === r.name.replace(` ${r.scale}×`, ''));
    if (!base) continue;
    r.overOneX = Number((r.strataMs / base.strataMs).toFixed(2));
    console.log(`${r.name.padEnd(30)} ${r.overOneX}× the 1× time for ${r.scale}× the files and bytes (Docker: ${(r.peerMs / base.peerMs).toFixed(2)}×)`);
  }
}

try {
  console.log(`load average at start: ${loadAtStart} (2 cores)`);
  if (ONLY !== 'run') for (const scale of SCALES) copyBench(scale);
  if (ONLY !== 'copy') runBench();
  linearity();
  console.log(`strata peak RSS ${peak.toFixed(0)} MB (target < 300 MB) ${peak < 300 ? 'ok' : 'MISSED'}`);
  console.log(`load average at end: ${load()}`);
  const out = { bench: 'build', files: FILES, mib: MIB, runs: RUNS, scales: SCALES, load: { start: loadAtStart, end: load() }, results, peakRssMb: Math.round(peak) };
  console.log(JSON.stringify(out));
  if (JSON_OUT) writeFileSync(JSON_OUT, `${JSON.stringify(out, null, 2)}\n`);
} finally {
  spawnSync(DOCKER, ['rmi', '-f', TAG], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}
