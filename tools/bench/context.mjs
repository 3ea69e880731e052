#!/usr/bin/env node
// Benchmark of the build-context walker (not a test; never gates CI).
//   node tools/build-cli.mjs && node tools/bench/context.mjs [--files 100000] [--runs 10] [--keep] [--json FILE]
// Builds a fresh tree of N files (default 100k) with a 20-pattern .dockerignore (exceptions
// included), warms the page cache, then measures in the same run:
//   find DIR | wc -l                       (the peer floor)
//   strata context ls DIR | wc -l          (target: within 2x of find)
//   strata context ls --summary DIR        (the walk with lstat of every entry: "the walk alone")
//   strata context digest DIR              (cold, first with an empty stat cache, second with nothing changed:
//                                           must read 0 files and stay within 3x of the walk alone)
// Prints medians, ratios and peak RSS (/usr/bin/time -f %M). With --json FILE, the results for
// tools/bench/table.mjs (the in-process walk and the cold digest as rows without a target).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO as repo, STRATA as BIN, loadAverage, measure, median, option, resultRow, writeResults } from './lib.mjs';

const FILES = option('files', 100_000);
// find and ls alternate RUNS * 2 times: the box is shared and single runs vary by ±20%
const RUNS = option('runs', 10);
const JSON_OUT = option('json', '');
const loadAtStart = loadAverage();

const work = mkdtempSync(join(tmpdir(), 'strata-bench-ctx-'));
const ctx = join(work, 'ctx');
const root = join(work, 'store');
const IGNORE = [
  '**/*.log', '**/*.tmp', '*.md', '!README.md', 'node_modules', '!node_modules/keep', '.git', 'build/**', '!build/keep/**',
  '**/cache', 'dist', 'coverage', '**/__pycache__', '*.pyc', '**/.DS_Store', 'tmp?', 'docs/*.pdf', '!docs/manual.pdf',
  '**/secret*', '!**/secret.pub',
];

function makeTree() {
  const exts = ['ts', 'js', 'log', 'md', 'json', 'tmp', 'py', 'pyc', 'txt', 'css'];
  const tops = ['src', 'lib', 'node_modules', 'build', 'docs', 'test', 'cache', 'app', 'pkg', 'vendor'];
  const perLeaf = Math.ceil(FILES / 1000);
  let n = 0;
  const old = new Date(Date.now() - 3600_000);
  for (const top of tops) {
    for (let i = 0; i < 10; i++) {
      for (let j = 0; j < 10; j++) {
        const leaf = join(ctx, top, `m${i}`, j === 3 ? 'cache' : j === 7 ? '__pycache__' : `n${j}`);
        mkdirSync(leaf, { recursive: true });
        for (let k = 0; k < perLeaf && n < FILES; k++, n++) {
          const name = k === 5 ? 'secret.key' : k === 6 ? 'secret.pub' : `f${k}.${exts[k % exts.length]}`;
          const f = join(leaf, name);
          writeFileSync(f, `file ${n} `.repeat(1 + (k % 20)));
          utimesSync(f, old, old); // older than the stat cache's racy window, as a checked-out tree would be
        }
      }
    }
  }
  mkdirSync(join(ctx, 'node_modules/keep'), { recursive: true });
  writeFileSync(join(ctx, 'node_modules/keep/index.js'), 'x');
  writeFileSync(join(ctx, 'README.md'), 'readme');
  writeFileSync(join(ctx, '.dockerignore'), `${IGNORE.join('\n')}\n`);
  return n;
}

function bench(label, cmd, argv, runs = RUNS) {
  const res = [];
  for (let i = 0; i < runs; i++) res.push(measure(cmd, argv));
  const m = { label, ms: median(res.map((r) => r.ms)), rss: Math.max(...res.map((r) => r.rssMB)), out: res[res.length - 1].stdout };
  console.log(`${label.padEnd(44)} ${m.ms.toFixed(0).padStart(6)} ms  peak RSS ${m.rss.toFixed(0)} MiB`);
  return m;
}

try {
  const t0 = Date.now();
  const n = makeTree();
  console.log(`tree: ${n} files under ${ctx} (${((Date.now() - t0) / 1000).toFixed(1)} s to create), ${IGNORE.length} patterns`);
  execFileSync('sh', ['-c', `find '${ctx}' > /dev/null; find '${ctx}' -type f | head -c0`]); // warm
  const node = process.execPath;
  // find and ls alternate, so both see the same machine load (the box is shared); min and median
  const pairs = { find: [], ls: [] };
  let findOut = '';
  let lsOut = '';
  let rssLs = 0;
  for (let i = 0; i < RUNS * 2; i++) {
    const f = measure('sh', ['-c', `find '${ctx}' | wc -l`]);
    const l = measure('sh', ['-c', `'${BIN}' context ls '${ctx}' | wc -l`]);
    pairs.find.push(f.ms);
    pairs.ls.push(l.ms);
    rssLs = Math.max(rssLs, l.rssMB);
    findOut = f.stdout;
    lsOut = l.stdout;
  }
  const stat = (xs) => ({ min: Math.min(...xs), med: median(xs) });
  const F = stat(pairs.find);
  const L = stat(pairs.ls);
  console.log(`${'find DIR | wc -l'.padEnd(44)} min ${F.min.toFixed(0)} ms, median ${F.med.toFixed(0)} ms`);
  console.log(`${'strata context ls DIR | wc -l'.padEnd(44)} min ${L.min.toFixed(0)} ms, median ${L.med.toFixed(0)} ms`);
  const find = { ms: F.med, out: findOut };
  const ls = { ms: L.med, out: lsOut };
  // The same walk inside one process (no node startup, no bundle load): what the library costs.
  const lib = join(work, 'walk-lib.mjs');
  const { build } = await import('esbuild');
  await build({
    stdin: {
      contents: `import { loadIgnore, visitContextNames } from '@strata/context';
        const dir = process.argv[2]; const times = [];
        for (let i = 0; i < ${RUNS * 2}; i++) { const t = performance.now(); let n = 0;
          visitContextNames(dir, { matcher: loadIgnore(dir) }, () => n++); times.push(performance.now() - t); }
        times.sort((a, b) => a - b); console.log(JSON.stringify({ min: times[0], med: times[times.length >> 1] }));`,
      resolveDir: repo, loader: 'ts',
    },
    bundle: true, platform: 'node', format: 'esm', outfile: lib, logLevel: 'error',
  });
  const inproc = JSON.parse(execFileSync(node, [lib, ctx], { encoding: 'utf8' }));
  console.log(`${'walk + .dockerignore in-process (library)'.padEnd(44)} min ${inproc.min.toFixed(0)} ms, median ${inproc.med.toFixed(0)} ms`);
  const nodeStart = bench('node -e 0 (startup, for reference)', node, ['-e', '0']);
  const cold = bench('strata context digest --no-cache (reads all)', BIN, ['--root', root, 'context', 'digest', '--no-cache', ctx], 3);
  rmSync(join(root, 'context-cache'), { recursive: true, force: true });
  const first = bench('strata context digest (empty stat cache)', BIN, ['--root', root, '--format', 'json', 'context', 'digest', ctx], 1);
  // the walk alone and the unchanged second digest alternate, like find and ls above
  const W = [];
  const S2 = [];
  let secondOut = '';
  let rssW = 0;
  let rssS = 0;
  for (let i = 0; i < RUNS; i++) {
    const w = measure(BIN, ['context', 'ls', '--summary', ctx]);
    const d = measure(BIN, ['--root', root, '--format', 'json', 'context', 'digest', ctx]);
    W.push(w.ms);
    S2.push(d.ms);
    rssW = Math.max(rssW, w.rssMB);
    rssS = Math.max(rssS, d.rssMB);
    secondOut = d.stdout;
  }
  const walkS = stat(W);
  const secondS = stat(S2);
  console.log(`${'strata context ls --summary (walk + lstat)'.padEnd(44)} min ${walkS.min.toFixed(0)} ms, median ${walkS.med.toFixed(0)} ms, peak RSS ${rssW.toFixed(0)} MiB`);
  console.log(`${'strata context digest (nothing changed)'.padEnd(44)} min ${secondS.min.toFixed(0)} ms, median ${secondS.med.toFixed(0)} ms, peak RSS ${rssS.toFixed(0)} MiB`);
  const walk = { ms: walkS.med };
  const second = { ms: secondS.med, out: secondOut };
  const r1 = JSON.parse(first.out);
  const r2 = JSON.parse(second.out);
  console.log('');
  console.log(`included entries: ${ls.out.trim()} of ${find.out.trim()} (find counts the root too)`);
  console.log(`context ls / find:                 ${(L.med / F.med).toFixed(2)}x median, ${(L.min / F.min).toFixed(2)}x best   (target <= 2x)`);
  console.log(`  library walk alone / find:       ${(inproc.med / F.med).toFixed(2)}x median, ${(inproc.min / F.min).toFixed(2)}x best (without node startup)`);
  console.log(`first digest: read ${r1.filesRead} files, ${r1.bytesRead} bytes`);
  console.log(`second digest: read ${r2.filesRead} files (target 0); same digest: ${r1.digest === r2.digest}`);
  console.log(`second digest / walk alone:        ${(secondS.med / walkS.med).toFixed(2)}x median, ${(secondS.min / walkS.min).toFixed(2)}x best   (target <= 3x)`);
  console.log(`cold digest / walk alone:          ${(cold.ms / walk.ms).toFixed(2)}x`);
  console.log(`(node -e 0 takes ${nodeStart.ms.toFixed(0)} ms here${process.env.NODE_EXTRA_CA_CERTS ? ' with NODE_EXTRA_CA_CERTS set, which the dist/strata launcher keeps off strata\'s start-up' : ''})`);
  const size = `${n.toLocaleString('en')} files, ${IGNORE.length} patterns`;
  const walkAlone = 'strata context ls --summary (the walk alone)';
  const results = [
    // the largest process of `sh -c '… | wc -l'`: strata's
    resultRow(`context ls DIR | wc -l (${size})`, L.med, 'find DIR | wc -l', F.med, 2, { rssMb: Math.round(rssLs), minRatio: Number((L.min / F.min).toFixed(3)), note: `${ls.out.trim()} of ${find.out.trim()} entries included (find counts the root too)` }),
    resultRow(`walk + .dockerignore in one process (${size})`, inproc.med, 'find DIR | wc -l', F.med, null, { note: 'the library alone: no node start-up, no bundle load' }),
    resultRow(`context digest, nothing changed (${size})`, secondS.med, walkAlone, walkS.med, 3, {
      rssMb: Math.round(rssS),
      filesRead: r2.filesRead,
      ok: secondS.med / walkS.med <= 3 && r2.filesRead === 0,
      note: `read ${r2.filesRead} files (target 0)${r1.digest === r2.digest ? '' : '; **the digest changed**'}`,
    }),
    resultRow(`context digest --no-cache, reads every file (${size})`, cold.ms, walkAlone, walkS.med, null, { rssMb: Math.round(cold.rss) }),
  ];
  writeResults(JSON_OUT, { bench: 'context', files: n, patterns: IGNORE.length, runs: RUNS, nodeMs: Math.round(nodeStart.ms), load: { start: loadAtStart, end: loadAverage() }, results });
} finally {
  if (!process.argv.includes('--keep')) rmSync(work, { recursive: true, force: true });
}
