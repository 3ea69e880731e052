// The quick fuzz run in CI (issue 18, item 1): every parser target of fuzz-targets.ts, a few dozen
// inputs each, in worker threads with a watchdog. The seed is fixed so CI is repeatable
// (STRATA_FUZZ_SEED picks another); a failure names its replay command. The long run:
// `node tools/reliability/fuzz.mjs`.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { runFuzz, type FuzzFigure } from './fuzz-run';
import { TARGETS } from './fuzz-targets';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const seed = Number(process.env.STRATA_FUZZ_SEED ?? 0) || 180_001;
const runs = Number(process.env.STRATA_FUZZ_RUNS ?? 0) || 30;

describe('fuzzing every parser (quick run)', () => {
  it(`no crash, hang, multi-line or uncoded error, or write outside the target (seed ${seed})`, { timeout: 300_000 }, async () => {
    const figures: FuzzFigure[] = await runFuzz({ repo, seed, runs });
    const summary = figures.map((f) => `${f.target}: ${f.inputs} inputs, ${f.failures} failures`).join('\n');
    console.log(`fuzz seed ${seed}, ${runs} inputs at weight 1\n${summary}`);
    expect(figures.map((f) => f.target)).toEqual(TARGETS.map((t) => t.name));
    const failed = figures.filter((f) => f.failures);
    expect(
      failed.map((f) => `${f.target}: ${f.failure?.error.split('\n')[0]}\n  replay: ${f.failure?.replay}`),
      'inputs that broke a parser',
    ).toEqual([]);
    for (const f of figures) expect(f.inputs, f.target).toBeGreaterThan(0);
  });
});
