#!/usr/bin/env node
// (Re)writes docs/RELIABILITY.md from the campaign's results, tools/reliability/results/*.json:
//
//   node tools/reliability/report.mjs [--results DIR] [--out FILE]
//
// fuzz.json has the shape tools/reliability/fuzz.mjs writes ({seed, command, inputs, failures,
// targets: [{target, inputs, failures, outcomes, ms, maxMs}]}); every other file the common one,
// {area, command, seed?, rows: [{case, ran, failed, note?}], method?}. A part that has not written
// its file yet shows as "not run yet". The document holds no time or machine path: regenerating it
// from the same results gives the same bytes.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 || i + 1 >= process.argv.length ? def : process.argv[i + 1];
};
const resultsDir = arg('results', join(repo, 'tools/reliability/results'));
const out = arg('out', join(repo, 'docs/RELIABILITY.md'));

/** The parts of the campaign, in the document's order, with how each one works. */
const PARTS = [
  {
    file: 'fuzz',
    area: 'fuzzing',
    method:
      'Every parser (Dockerfile and its variable lexer, `.dockerignore`, Go templates, the tar reader, manifest / index / config JSON, docker-archive `manifest.json`, OCI `index.json` and `oci-layout`, registry responses, references) gets generated inputs (fast-check) and mutations of real ones, in worker threads with a per-input watchdog. A failure is an uncaught exception, a hang, an error without a one-line message and code, or a write outside the target.',
  },
  {
    file: 'kill',
    area: 'kill -9',
    method:
      'Each command that writes runs once to list the checkpoints it passes (`STRATA_TEST_PAUSE_AT` seams), then is SIGKILLed at checkpoints spread over that list and at random times drawn from the seed. After each kill: the next strata command succeeds and `store check` is clean; no mount, network namespace, veth, CNI lease or netfilter rule of the store\'s containers is left; every blob hashes to its name; the images held before are intact; a rerun succeeds with the uninterrupted run\'s result (same image ID, digest or output; clocks pinned). A row fails when any of these does not hold.',
  },
  { file: 'disk', area: 'full disk', method: 'The store on a small filesystem made by the test: load, pull and build of an image larger than the free space end with a one-line "no space" error, no partial blob becomes visible, `store check` is clean, and after space is freed a rerun succeeds.' },
  { file: 'concurrency', area: 'concurrency', method: 'Several processes mixing build, pull, load, tag, rm, prune and gc on one store: no corrupt blob, no image lost that was not removed on purpose, no deadlock, no "file exists" error; the lock\'s hold times are reported.' },
  { file: 'races', area: 'path races', method: 'While an operation that resolves paths in a root runs, a concurrent process swaps a directory for a symlink to `/`: nothing is read or written outside the root.' },
  { file: 'hostile', area: 'hostile sources', method: 'Decompression bombs, huge manifests, endless blob streams, redirects to `file:` or private addresses, layers with very many entries or whiteouts: each gives a clear error or completes within bounded memory.' },
];

const readJson = (p) => {
  try {
    return JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    return { unreadable: e.message };
  }
};
const cell = (s) => String(s ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
const num = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : '—');

/** A part's rows in the common shape. */
function rowsOf(part, doc) {
  if (doc.unreadable) return { rows: [{ case: '(results unreadable)', note: doc.unreadable }], command: '', seed: undefined };
  if (part.file === 'fuzz' && Array.isArray(doc.targets)) {
    return {
      command: doc.command,
      seed: doc.seed,
      rows: doc.targets.map((t) => ({
        case: t.target,
        ran: t.inputs,
        failed: t.failures,
        note: [
          Object.entries(t.outcomes ?? {})
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
          t.maxMs !== undefined ? `slowest ${t.maxMs} ms` : '',
        ]
          .filter(Boolean)
          .join('; '),
      })),
    };
  }
  return { command: doc.command, seed: doc.seed, rows: Array.isArray(doc.rows) ? doc.rows : [{ case: '(no rows)' }], method: doc.method, alone: doc.alone };
}

const known = new Set(PARTS.map((p) => p.file));
const extra = existsSync(resultsDir)
  ? readdirSync(resultsDir)
      .filter((n) => n.endsWith('.json') && n !== 'campaign.json' && !known.has(n.slice(0, -5)))
      .sort()
      .map((n) => ({ file: n.slice(0, -5), area: undefined, method: undefined }))
  : [];

const table = ['| area | case | ran | lost, corrupted or failed | note |', '|---|---|---:|---:|---|'];
const runs = [];
const methods = [];
let total = 0;
let bad = 0;
for (const part of [...PARTS, ...extra]) {
  const path = join(resultsDir, `${part.file}.json`);
  if (!existsSync(path)) {
    table.push(`| ${part.area ?? part.file} | — | not run yet | — | |`);
    runs.push(`- **${part.area ?? part.file}**: not run yet (\`${relative(repo, path)}\` missing)`);
    if (part.method) methods.push(`- **${part.area}**: ${part.method}`);
    continue;
  }
  const doc = readJson(path);
  const area = doc.area ?? part.area ?? part.file;
  const { rows, command, seed, method, alone } = rowsOf(part, doc);
  for (const r of rows) {
    table.push(`| ${cell(area)} | ${cell(r.case)} | ${num(r.ran)} | ${num(r.failed)} | ${cell(r.note)} |`);
    if (typeof r.ran === 'number') total += r.ran;
    if (typeof r.failed === 'number') bad += r.failed;
  }
  // `alone`: the part was run again on its own after the last campaign (why, in the results file)
  runs.push(`- **${area}**: \`${command || '(no command recorded)'}\`${seed !== undefined ? `, seed ${seed}` : ''}${alone ? `; ${alone}` : ''}`);
  methods.push(`- **${area}**: ${part.method ?? method ?? doc.method ?? ''}`);
}

const campaign = existsSync(join(resultsDir, 'campaign.json')) ? readJson(join(resultsDir, 'campaign.json')) : undefined;
const lines = [
  '# Reliability',
  '',
  '<!-- Generated by tools/reliability/report.mjs from tools/reliability/results/*.json; do not edit by hand. -->',
  '',
  'What the reliability campaign (issue 18) does to strata, and the figures of its last run. A store people trust',
  'with their images must never lose or corrupt one whatever happens around it, and a tool that reads images from',
  'strangers must never be steered outside its directories: every row counts how many cases ran and how many lost',
  'or corrupted anything, or failed otherwise. The goal is 0 in every row.',
  '',
  'Run the whole campaign (its seed is printed first; pass it back to replay a run):',
  '',
  '```sh',
  'node tools/reliability/campaign.mjs [--seed N]',
  '```',
  '',
  'It runs the long fuzz (`node tools/reliability/fuzz.mjs`), the reliability tests with',
  '`STRATA_RELIABILITY=full STRATA_RELIABILITY_OUT=tools/reliability/results`, then this report',
  '(`node tools/reliability/report.mjs` alone rewrites this file from the results there). CI runs the quick fuzz and',
  'a subset of each test (a checkpoint or two per command of the kill matrix).',
  '',
  campaign ? `Last campaign: \`${campaign.command}\`, seed ${campaign.seed}.` : 'No whole campaign has been recorded yet; the parts below were run on their own, each with the command shown.',
  '',
  `## Figures (${num(total)} cases, ${num(bad)} lost, corrupted or failed)`,
  '',
  ...table,
  '',
  '## Runs',
  '',
  ...runs,
  '',
  '## Method',
  '',
  ...methods,
  '',
];
writeFileSync(out, lines.join('\n'));
console.log(`report: ${relative(repo, out)}: ${total} cases, ${bad} lost, corrupted or failed`);
