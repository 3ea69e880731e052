#!/usr/bin/env node
// Start-up of the small commands people chain in shell loops, against Docker's client talking to
// its daemon, in the same run (not a test): whole-process wall time, medians of alternating runs.
//   node tools/build-cli.mjs && node tools/bench/startup.mjs [--images 20] [--runs 31] [--compare BIN] [--json FILE]
// strata `image inspect`, `image ls`, `image history` and `layer ls` (one image's layers and file
// counts; Docker's nearest is `docker history`) against `docker image inspect`, `docker image ls`,
// `docker history`. Target (issue #15): ≤ 1.0× each. With --compare, another strata (e.g. a build
// of an earlier commit) is timed in the same rounds. Also: `node -e 0` with and without
// NODE_EXTRA_CA_CERTS, and the load average, as the figures move with both.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER, DOCKER_BASE, STRATA, ensureDockerBase, median, option, sh } from './lib.mjs';

const N = option('images', 20);
const RUNS = option('runs', 31);
const COMPARE = option('compare', '');
const JSON_OUT = option('json', '');
const PREFIX = 'strata-it-startup/bench';
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');

/** One run: wall ms, and user+sys ms from GNU time (10 ms steps). */
function once(argv, env) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', ...argv], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr.slice(-500)}`);
  const [u, s] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { ms, cpu: (u + s) * 1000 };
}

function main() {
  ensureDockerBase();
  const work = mkdtempSync(join(tmpdir(), 'strata-bench-startup-'));
  const root = join(work, 'store');
  const tags = Array.from({ length: N }, (_, i) => `${PREFIX}:${i}`);
  const loadAtStart = load();
  try {
    for (let i = 0; i < N; i++) sh(DOCKER, ['build', '-q', '-t', tags[i], '-'], { input: `FROM ${DOCKER_BASE}\nLABEL bench.n="${i}"\nENV N=${i}\n` });
    sh(DOCKER, ['save', '-o', join(work, 'all.tar'), DOCKER_BASE, ...tags]);
    const one = tags[Math.floor(N / 2)];
    const bins = { strata: STRATA, ...(COMPARE ? { compare: COMPARE } : {}) };
    for (const bin of Object.values(bins)) sh(bin, ['--root', root, 'image', 'load', '-i', join(work, 'all.tar')]);
    // each strata once before timing: its V8 code cache is written by the first run after a build
    for (const bin of Object.values(bins)) sh(bin, ['--root', root, 'image', 'ls']);
    const env = process.env;
    const commands = [
      { name: 'image inspect', strata: ['image', 'inspect', one], docker: ['image', 'inspect', one] },
      { name: 'image ls', strata: ['image', 'ls'], docker: ['image', 'ls'] },
      { name: 'image history', strata: ['image', 'history', one], docker: ['history', one] },
      { name: 'layer ls', strata: ['layer', 'ls', one], docker: ['history', one], peerNote: 'docker history' },
    ];
    const samples = new Map();
    const add = (k, x) => samples.set(k, [...(samples.get(k) ?? []), x]);
    const noCa = { ...env };
    delete noCa.NODE_EXTRA_CA_CERTS;
    for (let r = 0; r < RUNS; r++) {
      for (const c of commands) {
        const runs = [
          ['docker', () => once([DOCKER, ...c.docker], env)],
          ...Object.entries(bins).map(([k, bin]) => [k, () => once([bin, '--root', root, ...c.strata], env)]),
        ];
        // alternate who goes first
        if (r % 2) runs.reverse();
        for (const [k, f] of runs) add(`${c.name}|${k}`, f());
      }
      add('node -e 0 (NODE_EXTRA_CA_CERTS set)', once([process.execPath, '-e', '0'], env));
      add('node -e 0 (not set)', once([process.execPath, '-e', '0'], noCa));
    }
    const med = (k, f) => median(samples.get(k).map(f));
    const results = [];
    console.log(`load average at start: ${loadAtStart}, at end: ${load()} (2 cores); ${RUNS} alternating runs each, medians`);
    console.log(`${'command'.padEnd(16)}${'strata ms'.padStart(10)}${'docker ms'.padStart(10)}${'ratio'.padStart(8)}${'cpu strata/docker'.padStart(19)}${COMPARE ? '  compare ms  ratio' : ''}`);
    for (const c of commands) {
      const s = med(`${c.name}|strata`, (x) => x.ms);
      const d = med(`${c.name}|docker`, (x) => x.ms);
      const sc = med(`${c.name}|strata`, (x) => x.cpu);
      const dc = med(`${c.name}|docker`, (x) => x.cpu);
      const row = { name: `startup: ${c.name}`, strataMs: Math.round(s), peer: `docker ${c.docker[0] === 'history' ? 'history' : c.docker.slice(0, 2).join(' ')}`, peerMs: Math.round(d), ratio: Number((s / d).toFixed(3)), target: 1, ok: s / d <= 1, cpuMs: { strata: sc, docker: dc } };
      let extra = '';
      if (COMPARE) {
        const b = med(`${c.name}|compare`, (x) => x.ms);
        row.compareMs = Math.round(b);
        row.compareRatio = Number((b / d).toFixed(3));
        extra = `  ${b.toFixed(0).padStart(10)}  ${(b / d).toFixed(2)}`;
      }
      results.push(row);
      console.log(`${c.name.padEnd(16)}${s.toFixed(0).padStart(10)}${d.toFixed(0).padStart(10)}${(s / d).toFixed(2).padStart(8)}${`${sc.toFixed(0)}/${dc.toFixed(0)}`.padStart(19)}${extra}${s / d <= 1 ? '' : '   (over the 1.0× target)'}`);
    }
    for (const k of ['node -e 0 (NODE_EXTRA_CA_CERTS set)', 'node -e 0 (not set)']) console.log(`${k}: ${med(k, (x) => x.ms).toFixed(0)} ms`);
    const out = { bench: 'startup', images: N, runs: RUNS, load: { start: loadAtStart, end: load() }, nodeMs: { caSet: Math.round(med('node -e 0 (NODE_EXTRA_CA_CERTS set)', (x) => x.ms)), caUnset: Math.round(med('node -e 0 (not set)', (x) => x.ms)) }, results };
    console.log(JSON.stringify(out));
    if (JSON_OUT) writeFileSync(JSON_OUT, `${JSON.stringify(out, null, 2)}\n`);
  } finally {
    spawnSync(DOCKER, ['rmi', ...tags], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
  }
}

main();
