#!/usr/bin/env node
// A real Debian build, strata against `docker build` (BuildKit) in the same run (not a test):
//   node tools/build-cli.mjs && node tools/bench/run-debian.mjs [--runs 1] [--json FILE]
// Base: Debian bookworm minbase made by mmdebstrap (Debian package; made once, cached in
// $TMPDIR/strata-bench-bookworm.tar), imported into both. Then, with --no-cache:
//   RUN apt-get update && apt-get install -y --no-install-recommends python3
//   RUN useradd -m app
//   COPY app.py /home/app/
// Target: ≤ 1.0× Docker's wall time (the download is the same for both). apt needs the network:
// both builds use the host's (Docker 20.10's default bridge has no NAT here).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER, STRATA, measure, median, option } from './lib.mjs';

const RUNS = option('runs', 1);
const JSON_OUT = option('json', '');
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
const loadAtStart = load();
const work = mkdtempSync(join(tmpdir(), 'strata-bench-debian-'));
const denv = { ...process.env, DOCKER_BUILDKIT: '1' };
const BASE = 'strata-bench/bookworm:minbase';
const TAG = 'strata-it-build/debian';

function baseTar() {
  const tar = join(tmpdir(), 'strata-bench-bookworm.tar');
  if (existsSync(tar)) return tar;
  if (spawnSync('sh', ['-c', 'command -v mmdebstrap'], { stdio: 'ignore' }).status !== 0) throw new Error('mmdebstrap is not installed (apt-get install mmdebstrap)');
  execFileSync('mmdebstrap', ['--variant=minbase', '--format=tar', 'bookworm', `${tar}.tmp`], { stdio: ['ignore', 'ignore', 'inherit'] });
  renameSync(`${tar}.tmp`, tar);
  return tar;
}

try {
  const tar = baseTar();
  execFileSync(DOCKER, ['import', tar, BASE], { stdio: 'ignore' });
  const root = join(work, 'store');
  execFileSync(STRATA, ['--root', root, 'image', 'import', tar, BASE], { stdio: 'ignore' });
  const ctx = join(work, 'ctx');
  mkdirSync(ctx);
  writeFileSync(join(ctx, 'app.py'), 'print("hello from python")\n');
  writeFileSync(
    join(ctx, 'Dockerfile'),
    `FROM ${BASE}
RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*
RUN useradd -m app
COPY app.py /home/app/
`,
  );
  const s = [];
  const d = [];
  const steps = [];
  for (let i = 0; i < RUNS; i++) {
    s.push(measure(STRATA, ['--root', root, 'build', '--no-cache', '-q', '-t', 'debian:1', ctx]).ms);
    d.push(measure(DOCKER, ['build', '--no-cache', '--network', 'host', '-q', '-t', TAG, ctx], { env: denv }).ms);
  }
  const json = spawnSync(STRATA, ['--root', root, 'build', '--no-cache', '--progress', 'json', '-t', 'debian:1', ctx], { encoding: 'utf8' });
  for (const line of json.stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    const e = JSON.parse(line);
    if (e.type === 'step' && (e.status === 'done' || e.status === 'cached')) steps.push({ name: e.name, ms: e.elapsedMs });
  }
  for (const st of steps) console.log(`  ${String(st.ms).padStart(6)} ms  ${st.name.slice(0, 90)}`);
  const ratio = median(s) / median(d);
  console.log(`Debian apt-get build  strata ${median(s).toFixed(0)} ms   docker ${median(d).toFixed(0)} ms   ratio ${ratio.toFixed(3)} (target ≤ 1.0) ${ratio <= 1.0 ? 'ok' : 'MISSED'}`);
  const row = { name: 'Debian: apt-get install python3, useradd, COPY (cold)', strataMs: Math.round(median(s)), peer: 'docker build', peerMs: Math.round(median(d)), ratio: Number(ratio.toFixed(3)), target: 1.0, ok: ratio <= 1.0 };
  const out = { bench: 'run-debian', runs: RUNS, strataMs: s.map(Math.round), dockerMs: d.map(Math.round), ratio: Number(ratio.toFixed(3)), steps, load: { start: loadAtStart, end: load() }, results: [row] };
  console.log(JSON.stringify(out));
  if (JSON_OUT) writeFileSync(JSON_OUT, `${JSON.stringify(out, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
  for (const t of [TAG, BASE]) spawnSync(DOCKER, ['rmi', '-f', t], { stdio: 'ignore' });
}
