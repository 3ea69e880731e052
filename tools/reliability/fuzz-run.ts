// Runs fuzz targets (fuzz-targets.ts), each in a worker thread built from fuzz-worker.ts, two at
// a time, with a watchdog: a worker whose current input has run for longer than its bound is
// ended and the input reported as a hang (seed + path replay it). The figures are what
// tools/reliability/results/fuzz.json records.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { TARGETS } from './fuzz-targets';
import type { FuzzJob, WorkerMessage } from './fuzz-worker';

export interface FuzzFigure {
  target: string;
  parser: string;
  /** Inputs run (the first failing one included; shrinking runs not counted). */
  inputs: number;
  /** How the inputs ended: `ok` or the StrataError code. */
  outcomes: Record<string, number>;
  /** The slowest input, ms. */
  maxMs: number;
  failures: number;
  failure?: { error: string; counterexample?: string; replay: string; saved?: string };
  ms: number;
}

export interface FuzzOptions {
  repo: string;
  seed: number;
  /** Inputs per target at weight 1 (a target's weight multiplies it). */
  runs: number;
  /** Only these targets (default all). */
  names?: string[];
  /** Replay one input: its path (with `names` naming one target). */
  path?: string;
  parallel?: number;
  onFigure?: (f: FuzzFigure) => void;
}

const NATIVE = ['zstd-napi', '@napi-rs/xattr', '@node-rs/crc32'];

/** The worker script, bundled from TypeScript (plain node runs it; native addons stay external). */
export async function bundleWorker(repo: string): Promise<string> {
  const dir = join(repo, 'node_modules', '.cache', 'strata-reliability');
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, `fuzz-worker-${process.pid}.mjs`);
  await build({
    entryPoints: [join(repo, 'tools/reliability/fuzz-worker.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    absWorkingDir: repo,
    nodePaths: [join(repo, 'node_modules')],
    external: NATIVE,
    banner: { js: "import { createRequire as __strataCreateRequire } from 'node:module'; const require = __strataCreateRequire(import.meta.url);" },
    logLevel: 'silent',
  });
  return outfile;
}

function runOne(workerFile: string, job: FuzzJob, limitMs: number): Promise<WorkerMessage & { type: 'done' }> {
  return new Promise((resolve) => {
    const w = new Worker(workerFile, { workerData: job, resourceLimits: { maxOldGenerationSizeMb: 1024 } });
    let current = { index: -1, shrinking: false, at: Date.now(), input: '' };
    let finished = false;
    const hangAfter = Math.max(limitMs * 3, 10_000);
    const finish = (m: WorkerMessage & { type: 'done' }) => {
      if (finished) return;
      finished = true;
      clearInterval(watchdog);
      void w.terminate();
      resolve(m);
    };
    const watchdog = setInterval(() => {
      if (current.index >= 0 && Date.now() - current.at > hangAfter) {
        finish({
          type: 'done',
          inputs: current.shrinking ? 0 : current.index + 1,
          outcomes: {},
          maxMs: Date.now() - current.at,
          failed: true,
          error: `hang: input ${current.index} ran for more than ${hangAfter} ms${current.shrinking ? ' (while shrinking a failure)' : ''}`,
          counterexample: current.input,
          path: current.shrinking ? undefined : String(current.index),
        });
      }
    }, 250);
    w.on('message', (m: WorkerMessage) => {
      if (m.type === 'start') current = { index: m.index, shrinking: m.shrinking, at: Date.now(), input: m.input };
      else finish(m);
    });
    w.on('error', (err) => finish({ type: 'done', inputs: current.index + 1, outcomes: {}, maxMs: 0, failed: true, error: `worker died: ${err.stack ?? err}`, counterexample: current.input, path: String(current.index) }));
    w.on('exit', (code) => finish({ type: 'done', inputs: current.index + 1, outcomes: {}, maxMs: 0, failed: true, error: `worker exited (${code}) at input ${current.index}`, counterexample: current.input, path: String(current.index) }));
  });
}

/** Run the targets; resolves to one figure per target. */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzFigure[]> {
  const unknown = (opts.names ?? []).filter((n) => !TARGETS.some((t) => t.name === n));
  if (unknown.length) throw new Error(`no fuzz target ${unknown.join(', ')} (there are ${TARGETS.map((t) => t.name).join(', ')})`);
  const workerFile = await bundleWorker(opts.repo);
  const chosen = opts.names?.length ? TARGETS.filter((t) => opts.names!.includes(t.name)) : TARGETS;
  const figures: FuzzFigure[] = [];
  const queue = [...chosen];
  const worker = async () => {
    for (let t = queue.shift(); t; t = queue.shift()) {
      const t0 = Date.now();
      const r = await runOne(workerFile, { name: t.name, seed: opts.seed, runs: Math.max(1, Math.round(opts.runs * t.weight)), repo: opts.repo, path: opts.path }, t.limitMs);
      const fig: FuzzFigure = {
        target: t.name,
        parser: t.parser,
        inputs: r.inputs,
        outcomes: r.outcomes,
        maxMs: r.maxMs,
        failures: r.failed ? 1 : 0,
        ms: Date.now() - t0,
      };
      if (r.failed) {
        fig.failure = {
          error: r.error ?? '',
          counterexample: r.counterexample,
          saved: r.saved,
          replay: `node tools/reliability/fuzz.mjs --target ${t.name} --seed ${opts.seed}${r.path ? ` --path ${r.path}` : ''}`,
        };
      }
      figures.push(fig);
      opts.onFigure?.(fig);
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.parallel ?? 2 }, worker));
  } finally {
    rmSync(workerFile, { force: true });
  }
  return chosen.map((t) => figures.find((f) => f.target === t.name)!);
}
