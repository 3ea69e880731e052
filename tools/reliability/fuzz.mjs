#!/usr/bin/env node
// The long fuzz run (issue 18, item 1): every parser target of fuzz-targets.ts, many inputs each,
// in worker threads with a per-input watchdog. Prints its seed first, so any failure replays:
//
//   node tools/reliability/fuzz.mjs [--runs N] [--seed S] [--target NAME[,NAME]] [--path P] [--out FILE]
//
// --runs: inputs per target at weight 1 (default 2000; the quick CI run uses ~60). The figures
// (inputs per target, outcomes, failures with their replay line) go to --out, by default
// tools/reliability/results/fuzz.json, which tools/reliability/report.mjs reads. Exit 1 on any failure.
import { randomInt } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 || i + 1 >= process.argv.length ? def : process.argv[i + 1];
};
const seed = Number(arg('seed', String(randomInt(2 ** 31))));
const runs = Number(arg('runs', '2000'));
const names = arg('target', '')?.split(',').filter(Boolean);
const path = arg('path', undefined);
const out = arg('out', join(repo, 'tools/reliability/results/fuzz.json'));
console.log(`fuzz: seed ${seed}, ${runs} inputs per target at weight 1${names.length ? `, targets ${names.join(', ')}` : ''}`);

// fuzz-run.ts (the runner) is TypeScript: bundle it for plain node, esbuild left outside.
const runner = join(repo, 'node_modules/.cache/strata-reliability', `fuzz-run-${process.pid}.mjs`);
await build({
  entryPoints: [join(repo, 'tools/reliability/fuzz-run.ts')],
  outfile: runner,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  nodePaths: [join(repo, 'node_modules')],
  external: ['esbuild', 'zstd-napi', '@napi-rs/xattr', '@node-rs/crc32'],
  banner: { js: "import { createRequire as __strataCreateRequire } from 'node:module'; const require = __strataCreateRequire(import.meta.url);" },
  logLevel: 'silent',
});
const { runFuzz } = await import(runner);
rmSync(runner, { force: true });
const t0 = Date.now();
const figures = await runFuzz({
  repo,
  seed,
  runs,
  names,
  path,
  onFigure: (f) => {
    const outcomes = Object.entries(f.outcomes).map(([k, v]) => `${k} ${v}`).join(', ');
    console.log(`${f.failures ? 'FAIL' : 'ok  '} ${f.target.padEnd(18)} ${String(f.inputs).padStart(7)} inputs in ${(f.ms / 1000).toFixed(1)} s, slowest ${f.maxMs} ms (${outcomes})`);
    if (f.failure) console.log(`     ${f.failure.error.split('\n').join('\n     ')}\n     input: ${(f.failure.counterexample ?? '(see the replay)').slice(0, 400)}\n     replay: ${f.failure.replay}${f.failure.saved ? `\n     whole input: ${f.failure.saved}` : ""}`);
  },
});
const failures = figures.reduce((n, f) => n + f.failures, 0);
if (path === undefined) {
  mkdirSync(dirname(out), { recursive: true });
  const doc = {
    what: 'fuzzing of every parser (issue 18 item 1): inputs per target, how they ended, failures',
    command: `node tools/reliability/fuzz.mjs --runs ${runs} --seed ${seed}${names.length ? ` --target ${names.join(',')}` : ''}`,
    seed,
    runsAtWeight1: runs,
    node: process.version,
    seconds: Math.round((Date.now() - t0) / 1000),
    inputs: figures.reduce((n, f) => n + f.inputs, 0),
    failures,
    targets: figures,
  };
  writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`fuzz: ${doc.inputs} inputs, ${failures} failures; figures in ${out}`);
}
process.exitCode = failures ? 1 : 0;
