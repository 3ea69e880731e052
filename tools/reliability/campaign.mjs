#!/usr/bin/env node
// The whole reliability campaign (issue 18) by one command; its seed is printed first:
//
//   node tools/reliability/campaign.mjs [--seed N] [--fuzz-runs N] [--skip fuzz|tests]
//
// 1. the long fuzz run (tools/reliability/fuzz.mjs, same seed);
// 2. the reliability tests in full (STRATA_RELIABILITY=full), which write their figures to
//    tools/reliability/results/*.json (STRATA_RELIABILITY_OUT) and take the seed from
//    STRATA_RELIABILITY_SEED;
// 3. tools/reliability/report.mjs, which rewrites docs/RELIABILITY.md from those figures.
// Every step runs even when one before it failed; the exit code is 1 when any did.
import { randomInt } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 || i + 1 >= process.argv.length ? def : process.argv[i + 1];
};
const seed = Number(arg('seed', String(randomInt(1, 2 ** 31))));
if (!Number.isSafeInteger(seed) || seed <= 0) throw new Error(`--seed must be a positive integer, not ${arg('seed')}`);
const fuzzRuns = arg('fuzz-runs', undefined);
const skip = new Set((arg('skip', '') ?? '').split(',').filter(Boolean));
const results = join(repo, 'tools/reliability/results');
/** The reliability test files (vitest path filters): the kill matrix, disk, concurrency, hostile sources, path races. */
const TESTS = ['packages/cli/test/reliability/', 'tools/reliability/hostile.test.ts', 'races.test.ts'];

const command = `node tools/reliability/campaign.mjs --seed ${seed}${fuzzRuns ? ` --fuzz-runs ${fuzzRuns}` : ''}`;
console.log(`campaign: seed ${seed} (replay: ${command})`);
mkdirSync(results, { recursive: true });
writeFileSync(join(results, 'campaign.json'), `${JSON.stringify({ command, seed }, null, 2)}\n`);

const failed = [];
const step = (name, cmd, args, env = {}) => {
  console.log(`\ncampaign: ${name}: ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: repo, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) failed.push(`${name} (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
};

if (!skip.has('fuzz')) step('fuzz', process.execPath, ['tools/reliability/fuzz.mjs', '--seed', String(seed), ...(fuzzRuns ? ['--runs', fuzzRuns] : [])]);
if (!skip.has('tests')) {
  step('reliability tests', 'npx', ['vitest', 'run', ...TESTS], {
    STRATA_RELIABILITY: 'full',
    STRATA_RELIABILITY_OUT: results,
    STRATA_RELIABILITY_SEED: String(seed),
  });
}
step('report', process.execPath, ['tools/reliability/report.mjs']);

console.log(`\ncampaign: seed ${seed}: ${failed.length ? `failed: ${failed.join('; ')}` : 'every step passed'}`);
process.exitCode = failed.length ? 1 : 0;
