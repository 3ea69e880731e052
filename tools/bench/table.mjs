#!/usr/bin/env node
// The README's table of measured ratios, regenerated from the benchmarks' JSON (not a test):
//   node tools/bench/table.mjs [--dir tools/bench/results] [--readme README.md]
// Every benchmark here takes `--json FILE` and writes
//   { bench, load: {start, end}, results: [{ name, strataMs, peer, peerMs, ratio, target, ok,
//     rssMb?, rssTargetMb?, note? }], …anything else }
// (tools/bench/lib.mjs `resultRow`). `peer` null: nothing to compare with (peerMs, ratio null);
// a peer named `bound …` is an absolute bound from an issue, peerMs the bound. `target` null: no
// target (ok null); otherwise ok says whether every target of the row was met, the RSS bound
// (rssTargetMb) included. `tools/bench/results/` keeps the last run of each, made on a quiet
// machine after `node tools/build-cli.mjs` (dockerd running; registry also needs docker-registry
// and skopeo, container-run root, runc and iptables, run-debian mmdebstrap and the network):
//   node tools/bench/build.mjs --scales 1 --runs 5 --settle 420 --json tools/bench/results/build.json (10×: build-10x.json)
//   node tools/bench/run-heavy.mjs --runs 5 --settle 420 --json tools/bench/results/run-heavy.json
//   node tools/bench/run-heavy.mjs --files 200000 --mib 1000 --runs 1 --json tools/bench/results/run-heavy-10x.json
//   node tools/bench/run-debian.mjs --json tools/bench/results/run-debian.json
//   node tools/bench/startup.mjs --json tools/bench/results/startup.json
//   node tools/bench/run.mjs --json tools/bench/results/run.json
//   node tools/bench/container-run.mjs --json tools/bench/results/container-run.json
//   node tools/bench/inspect-ls.mjs --json tools/bench/results/inspect-ls.json
//   node tools/bench/context.mjs --json tools/bench/results/context.json
//   node tools/bench/load-save.mjs --json tools/bench/results/load-save.json
//   node tools/bench/export.mjs --json tools/bench/results/export.json
//   node tools/bench/registry.mjs --big --json tools/bench/results/registry.json
//   node tools/bench/efficiency.mjs --json tools/bench/results/efficiency.json
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
/** A table cell's text: a `|` in it (e.g. `find DIR | wc -l`) would end the cell. */
const cell = (s) => String(s).replaceAll('|', '\\|');
const met = (ok) => (ok === false ? '**missed**' : 'met');
/** The peer cell: its time and name; an absolute bound by its name alone; no peer: a dash. */
const peerCell = (r) => (r.peer === null || r.peer === undefined ? '—' : r.peer.startsWith('bound ') ? r.peer : `${seconds(r.peerMs)} \`${r.peer}\``);
const ratioCell = (r) => (typeof r.ratio === 'number' ? `**${r.ratio.toFixed(2)}**` : '—');
const targetCell = (r) => (r.target === null || r.target === undefined ? '—' : `≤ ${r.target} ${met(r.ok)}`);
const rssCell = (r) => {
  if (r.rssMb === undefined) return '';
  if (r.rssTargetMb === undefined) return `${r.rssMb} MB`;
  return `${r.rssMb} MB (< ${r.rssTargetMb} ${met(r.rssMb < r.rssTargetMb)})`;
};

const rows = [];
for (const name of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
  const doc = JSON.parse(readFileSync(join(dir, name), 'utf8'));
  for (const r of doc.results ?? []) {
    const load = doc.load ? `${doc.load.start} → ${doc.load.end}` : '';
    const cells = [`\`${doc.bench}\``, r.name, seconds(r.strataMs), peerCell(r), ratioCell(r), targetCell(r), rssCell(r), load, r.note ?? ''];
    rows.push(`| ${cells.map(cell).join(' | ')} |`);
  }
}
const table = [
  BEGIN,
  '| bench | case | strata | peer | ratio | target | strata peak RSS | load average (start → end) | note |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows,
  END,
].join('\n');

const text = readFileSync(readme, 'utf8');
const a = text.indexOf(BEGIN);
const b = text.indexOf(END);
if (a < 0 || b < a) throw new Error(`${readme} has no ${BEGIN} … ${END} block`);
writeFileSync(readme, `${text.slice(0, a)}${table}${text.slice(b + END.length)}`);
console.log(`${rows.length} rows from ${dir} written to ${readme}`);
