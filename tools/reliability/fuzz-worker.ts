// One fuzz target in a worker thread (bundled by fuzz-run.ts): fast-check drives the inputs; a
// heartbeat before each one lets the main thread end a worker stuck in a synchronous loop and
// name the input (seed and path) that hung.
import { parentPort, workerData } from 'node:worker_threads';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { scratchDir, TARGETS, Violation } from './fuzz-targets';

export interface FuzzJob {
  name: string;
  seed: number;
  runs: number;
  repo: string;
  /** Replay one input (fast-check's counterexample path, or a run index). */
  path?: string;
}

export type WorkerMessage =
  | { type: 'start'; index: number; shrinking: boolean; input: string }
  | {
      type: 'done';
      inputs: number;
      outcomes: Record<string, number>;
      maxMs: number;
      failed: boolean;
      counterexample?: string;
      error?: string;
      path?: string;
      /** The whole failing input as JSON (buffers as `{ base64 }`), relative to the repository. */
      saved?: string;
    };

const job = workerData as FuzzJob;
const post = (m: WorkerMessage) => parentPort!.postMessage(m);

async function main(): Promise<void> {
  const t = TARGETS.find((x) => x.name === job.name);
  if (!t) throw new Error(`no fuzz target ${job.name}`);
  const scratch = scratchDir(t.name);
  const prepared = await t.prepare({ repo: job.repo, scratch });
  const outcomes: Record<string, number> = {};
  let index = -1;
  let inputs = 0;
  let shrinking = false;
  let maxMs = 0;
  const property = fc.asyncProperty(prepared.arbitrary, async (input) => {
    index++;
    // the input goes along: a worker stuck in a loop cannot say later what it was given
    post({ type: 'start', index, shrinking, input: fc.stringify(input).slice(0, 3000) });
    const t0 = performance.now();
    try {
      const o = await prepared.run(input);
      const ms = performance.now() - t0;
      if (ms > t.limitMs) throw new Violation(`one input took ${ms.toFixed(0)} ms (bound ${t.limitMs} ms)`);
      if (!shrinking) {
        inputs++;
        maxMs = Math.max(maxMs, ms);
        outcomes[o] = (outcomes[o] ?? 0) + 1;
      }
    } catch (err) {
      if (!shrinking) inputs++;
      shrinking = true;
      throw err;
    }
  });
  try {
    const d = await fc.check(property, { seed: job.seed, numRuns: job.runs, path: job.path, endOnFailure: job.path !== undefined, maxSkipsPerRun: 1 });
    const err = d.errorInstance as Error | undefined;
    let saved: string | undefined;
    if (d.failed && d.counterexample) {
      // the report shows a prefix; the whole input goes beside the bundles, for a regression test
      saved = join('node_modules/.cache/strata-reliability/failures', `${job.name}-${job.seed}.json`);
      mkdirSync(join(job.repo, 'node_modules/.cache/strata-reliability/failures'), { recursive: true });
      writeFileSync(
        join(job.repo, saved),
        JSON.stringify(d.counterexample[0], (_k, v: unknown) => (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data) ? { base64: Buffer.from((v as { data: number[] }).data).toString('base64') } : v), 2),
      );
    }
    post({
      type: 'done',
      inputs,
      outcomes,
      maxMs: Math.round(maxMs),
      failed: d.failed,
      ...(d.failed
        ? {
            counterexample: fc.stringify(d.counterexample).slice(0, 3000),
            error: (err instanceof Violation ? err.message : `${err?.name}: ${err?.message}\n${err?.stack ?? ''}`).slice(0, 3000),
            path: d.counterexamplePath ?? undefined,
            saved,
          }
        : {}),
    });
  } finally {
    await prepared.teardown?.();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((err) => {
  post({ type: 'done', inputs: 0, outcomes: {}, maxMs: 0, failed: true, error: `the target did not start: ${(err as Error)?.stack ?? err}` });
});
