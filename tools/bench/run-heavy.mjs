#!/usr/bin/env node
// RUN-heavy builds, strata against `docker build` (BuildKit) in the same run (not a test):
//   node tools/build-cli.mjs && node tools/bench/run-heavy.mjs [--runs 3] [--files 20000] [--mib 100] [--settle 420] [--json FILE]
// busybox base; `RUN` writing N small files plus M MiB, then `RUN true`, then `RUN echo hi > /x`,
// with --no-cache (a cold build each time). Target: ≤ 0.7× Docker's wall time (issue #15).
// Also reports the median time of each step (strata --progress plain) and strata's peak RSS. The
// two take turns going first. --settle SECONDS: sync and wait that long first (`settle` in
// lib.mjs: on ext4 without a journal, files deleted in the last minutes slow file creation).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER, DOCKER_BASE, STRATA, ensureDockerBase, inTurns, measure, median, option, settle } from './lib.mjs';

const RUNS = option('runs', 3);
const JSON_OUT = option('json', '');
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
const loadAtStart = load();
const FILES = option('files', 20_000);
const MIB = option('mib', 100);
const SETTLE = option('settle', 0);
const work = mkdtempSync(join(tmpdir(), 'strata-bench-runheavy-'));
const denv = { ...process.env, DOCKER_BUILDKIT: '1' };
const TAG = 'strata-it-build/runheavy';

try {
  ensureDockerBase();
  const root = join(work, 'store');
  const tar = join(work, 'busybox.tar');
  execFileSync('sh', ['-c', `${DOCKER} save ${DOCKER_BASE} > ${tar}`]);
  execFileSync(STRATA, ['--root', root, 'image', 'load', '-i', tar], { stdio: 'ignore' });
  const ctx = join(work, 'ctx');
  mkdirSync(ctx);
  writeFileSync(
    join(ctx, 'Dockerfile'),
    `FROM ${DOCKER_BASE}
RUN mkdir -p /data/small && cd /data/small && i=0 && while [ $i -lt ${FILES} ]; do echo "file $i" > f$i; i=$((i+1)); done && dd if=/dev/urandom of=/data/big bs=1M count=${MIB} 2>/dev/null
RUN true
RUN echo hi > /x
`,
  );
  const s = [];
  const d = [];
  const steps = [];
  let peak = 0;
  settle(SETTLE);
  const ours = () => {
    const x = measure(STRATA, ['--root', root, 'build', '--no-cache', '--progress', 'plain', '-t', 'runheavy:1', ctx]);
    s.push(x.ms);
    peak = Math.max(peak, x.rssMB);
  };
  const theirs = () => d.push(measure(DOCKER, ['build', '--no-cache', '-q', '-t', TAG, ctx], { env: denv }).ms);
  for (let i = 0; i < RUNS; i++) inTurns(i, ours, theirs);
  // Per step, from one more strata build's JSON progress events.
  const json = spawnSync(STRATA, ['--root', root, 'build', '--no-cache', '--progress', 'json', '-t', 'runheavy:1', ctx], { encoding: 'utf8' });
  for (const line of json.stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    const e = JSON.parse(line);
    if (e.type === 'step' && (e.status === 'done' || e.status === 'cached')) steps.push({ name: e.name, ms: e.elapsedMs });
  }
  for (const st of steps) console.log(`  ${String(st.ms).padStart(6)} ms  ${st.name.slice(0, 90)}`);
  const ratio = median(s) / median(d);
  console.log(`RUN-heavy (${FILES} files + ${MIB} MiB)  strata ${median(s).toFixed(0)} ms   docker ${median(d).toFixed(0)} ms   ratio ${ratio.toFixed(3)} (target ≤ 0.7) ${ratio <= 0.7 ? 'ok' : 'MISSED'}   strata peak RSS ${peak.toFixed(0)} MB`);
  const row = { name: `RUN-heavy: ${FILES} files + ${MIB} MiB, then RUN true, RUN echo (cold)`, strataMs: Math.round(median(s)), peer: 'docker build', peerMs: Math.round(median(d)), ratio: Number(ratio.toFixed(3)), target: 0.7, ok: ratio <= 0.7, rssMb: Math.round(peak) };
  const out = { bench: 'run-heavy', files: FILES, mib: MIB, runs: RUNS, strataMs: s.map(Math.round), dockerMs: d.map(Math.round), ratio: Number(ratio.toFixed(3)), peakRssMb: Math.round(peak), steps, settleSec: SETTLE, load: { start: loadAtStart, end: load() }, results: [row] };
  console.log(JSON.stringify(out));
  if (JSON_OUT) writeFileSync(JSON_OUT, `${JSON.stringify(out, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
  try {
    execFileSync(DOCKER, ['rmi', '-f', TAG], { stdio: 'ignore' });
  } catch {}
}
