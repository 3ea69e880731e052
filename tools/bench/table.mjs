#!/usr/bin/env node
// The README's table of measured ratios, regenerated from the benchmarks' JSON (not a test):
//   node tools/bench/table.mjs [--dir tools/bench/results] [--readme README.md]
// Each benchmark that takes `--json FILE` (build, run-heavy, run-debian, startup) writes
// `{ bench, load: {start, end}, results: [{ name, strataMs, peer, peerMs, ratio, target, ok, rssMb? }] }`;
// `tools/bench/results/` keeps the last run of each, e.g.
//   node tools/bench/build.mjs --scales 1,10 --json tools/bench/results/build.json
//   node tools/bench/run-heavy.mjs --json tools/bench/results/run-heavy.json
//   node tools/bench/run-heavy.mjs --files 200000 --mib 1000 --runs 1 --json tools/bench/results/run-heavy-10x.json
//   node tools/bench/run-debian.mjs --json tools/bench/results/run-debian.json
//   node tools/bench/startup.mjs --json tools/bench/results/startup.json
// This script rewrites the part of the README between the `bench-table` markers: one row per
// result, its target and whether it was met, and the load average the pair ran under (the
// development machine has 2 cores; the figures move with the load).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { option } from './lib.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const dir = option('dir', join(repo, 'tools/bench/results'));
const readme = option('readme', join(repo, 'README.md'));
const BEGIN = '<!-- bench-table:begin (tools/bench/table.mjs writes this part) -->';
const END = '<!-- bench-table:end -->';

const seconds = (ms) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms} ms`);

const rows = [];
for (const name of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
  const doc = JSON.parse(readFileSync(join(dir, name), 'utf8'));
  for (const r of doc.results ?? []) {
    const rss = r.rssMb !== undefined ? `${r.rssMb} MB` : '';
    const load = doc.load ? `${doc.load.start} → ${doc.load.end}` : '';
    rows.push(`| \`${doc.bench}\` | ${r.name} | ${seconds(r.strataMs)} | ${seconds(r.peerMs)} \`${r.peer}\` | **${r.ratio.toFixed(2)}** | ≤ ${r.target} ${r.ok ? 'met' : '**missed**'} | ${rss} | ${load} |`);
  }
}
const table = [
  BEGIN,
  '| bench | case | strata | peer | ratio | target | strata peak RSS | load average (start → end) |',
  '|---|---|---|---|---|---|---|---|',
  ...rows,
  END,
].join('\n');

const text = readFileSync(readme, 'utf8');
const a = text.indexOf(BEGIN);
const b = text.indexOf(END);
if (a < 0 || b < a) throw new Error(`${readme} has no ${BEGIN} … ${END} block`);
writeFileSync(readme, `${text.slice(0, a)}${table}${text.slice(b + END.length)}`);
console.log(`${rows.length} rows from ${dir} written to ${readme}`);
