#!/usr/bin/env node
// Benchmark (issue #3): `strata image export` of a 5-layer image with 50k files against
// `docker export` of a container created from the same image (target ratio ≤ 1.0) and against
// GNU `tar -c` of the same tree (reported), all measured in this run; peak RSS of strata via
// /usr/bin/time -v (target < 200 MB). Also `strata layer diff` of two such images (seconds,
// files/s, peak RSS). Outputs go to real files (not /dev/null: tar would skip reading data).
// Usage: node tools/build-cli.mjs && node tools/bench/export.mjs [--files 50000] [--kb 6] [--runs 3] [--json FILE]
// Needs dockerd and /usr/bin/docker. Not part of CI's pass/fail. With --json FILE, the results for
// tools/bench/table.mjs (GNU tar and `layer diff`, which has no peer, as rows without a target).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER, DOCKER_BASE, STRATA, ensureDockerBase, loadAverage, measure, option as arg, resultRow, sh, writeResults } from './lib.mjs';

const BASE = DOCKER_BASE;
const TAG_A = 'strata-it-layers/bench-a';
const TAG_B = 'strata-it-layers/bench-b';
const FILES = arg('files', 50_000);
const KB = arg('kb', 6); // average file size
const RUNS = arg('runs', 3);
const JSON_OUT = arg('json', '');
const LAYERS = 5;
const RSS_TARGET = 200;
// image B's step reads /data/l0/d1 and /data/l3/d2/f2*: each layer needs more than 200 files
if (Math.floor(FILES / LAYERS) <= 200) throw new Error(`--files must be at least ${LAYERS * 201}`);
const loadAtStart = loadAverage();

/** A build context with LAYERS directories of FILES/LAYERS files (sizes 0..2·KB KiB, 100 files per dir). */
function makeContext(dir) {
  const per = Math.floor(FILES / LAYERS);
  const blob = randomBytes(2 * KB * 1024 + 1);
  let n = 0;
  for (let l = 0; l < LAYERS; l++) {
    for (let i = 0; i < per; i++) {
      const d = join(dir, `l${l}`, `d${Math.floor(i / 100)}`);
      if (i % 100 === 0) mkdirSync(d, { recursive: true });
      const size = (n++ * 7919) % (2 * KB * 1024);
      writeFileSync(join(d, `f${i}`), blob.subarray(size % 97, (size % 97) + size));
    }
  }
  const copies = Array.from({ length: LAYERS }, (_, l) => `COPY l${l} /data/l${l}`).join('\n');
  writeFileSync(join(dir, 'Dockerfile'), `FROM ${BASE}\n${copies}\n`);
  // Image B: one more layer that changes 10% of the files, deletes a directory and adds some.
  writeFileSync(join(dir, 'Dockerfile.b'), `FROM ${TAG_A}\nRUN for f in /data/l1/d*/f*0; do echo changed > $f; done && rm -rf /data/l2/d3 && mkdir -p /data/new && cp -r /data/l0/d1 /data/new/ && chmod 600 /data/l3/d2/f2*\n`);
}

/** The median run of a command over RUNS runs (by wall time), printed with its peak RSS. */
function medianRun(label, [cmd, ...argv], opts) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    opts?.before?.();
    runs.push(measure(cmd, argv, opts));
  }
  runs.sort((x, y) => x.ms - y.ms);
  const m = runs[Math.floor(runs.length / 2)];
  console.log(`${label.padEnd(44)} ${m.secs.toFixed(2).padStart(7)} s   peak RSS ${m.rssMB.toFixed(0).padStart(5)} MB`);
  return m;
}

ensureDockerBase();
const work = mkdtempSync(join(tmpdir(), 'strata-bench-export-'));
const root = join(work, 'root');
try {
  const ctx = join(work, 'ctx');
  mkdirSync(ctx);
  makeContext(ctx);
  sh(DOCKER, ['build', '-q', '-t', TAG_A, ctx]);
  sh(DOCKER, ['build', '-q', '-t', TAG_B, '-f', join(ctx, 'Dockerfile.b'), ctx]);
  rmSync(ctx, { recursive: true, force: true });
  const archive = join(work, 'images.tar');
  sh(DOCKER, ['save', '-o', archive, TAG_A, TAG_B]);
  sh(STRATA, ['--root', root, 'image', 'load', '-i', archive]);
  rmSync(archive);
  const cid = sh(DOCKER, ['create', TAG_A, 'true']).trim();
  const out = join(work, 'out.tar');
  console.log(`image: ${LAYERS} layers of ${FILES / LAYERS} files (~${KB} KiB avg) over the busybox base; ${RUNS} runs, medians`);
  const rm = () => rmSync(out, { force: true });
  const strata = medianRun('strata image export -o FILE', [STRATA, '--root', root, 'image', 'export', TAG_A, '-o', out], { before: rm });
  const docker = medianRun('docker export -o FILE', [DOCKER, 'export', '-o', out, cid], { before: rm });
  // GNU tar of the same tree: extract strata's export once, then tar it up.
  const tree = join(work, 'tree');
  mkdirSync(tree);
  sh(STRATA, ['--root', root, 'image', 'export', TAG_A, '-o', out]);
  sh('tar', ['-xf', out, '-C', tree]);
  const gnu = medianRun('GNU tar -c (same tree) -f FILE', ['tar', '-cf', out, '-C', tree, '.'], { before: rm });
  sh(DOCKER, ['rm', cid]);
  console.log(`ratio strata/docker export: ${(strata.secs / docker.secs).toFixed(2)} (target ≤ 1.0)`);
  console.log(`ratio strata/GNU tar -c:    ${(strata.secs / gnu.secs).toFixed(2)}`);
  const diff = medianRun('strata layer diff A B', [STRATA, '--root', root, 'layer', 'diff', TAG_A, TAG_B, '--summary'], { okCodes: [0, 1] });
  const entries = Number(sh(STRATA, ['--root', root, '-q', 'image', 'files', '-R', TAG_B]).split('\n').length - 1);
  console.log(`layer diff: ${diff.secs.toFixed(2)} s, ${(entries / diff.secs).toFixed(0)} files/s over ${entries} entries (${diff.stdout.trim()})`);
  console.log(`peak RSS < 200 MB: export ${strata.rssMB < 200 ? 'yes' : 'NO'}, diff ${diff.rssMB < 200 ? 'yes' : 'NO'}`);
  const size = `${LAYERS} layers × ${(FILES / LAYERS).toLocaleString('en')} files`;
  const exportRss = { rssMb: Math.round(strata.rssMB), rssTargetMb: RSS_TARGET };
  const vsDocker = resultRow(`image export (${size})`, strata.ms, 'docker export', docker.ms, 1, exportRss);
  const filesPerSec = Math.round(entries / diff.secs);
  const results = [
    { ...vsDocker, ok: vsDocker.ok && strata.rssMB < RSS_TARGET },
    resultRow(`image export (${size})`, strata.ms, 'GNU tar -c (same tree)', gnu.ms, null, exportRss),
    resultRow(`layer diff A B (${entries.toLocaleString('en')} entries)`, diff.ms, null, null, null, {
      rssMb: Math.round(diff.rssMB),
      rssTargetMb: RSS_TARGET,
      ok: diff.rssMB < RSS_TARGET,
      filesPerSec,
      note: `${filesPerSec.toLocaleString('en')} files/s`,
    }),
  ];
  writeResults(JSON_OUT, { bench: 'export', files: FILES, kb: KB, layers: LAYERS, runs: RUNS, load: { start: loadAtStart, end: loadAverage() }, results });
} finally {
  spawnSync(DOCKER, ['rmi', TAG_B, TAG_A], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}
