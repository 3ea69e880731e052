#!/usr/bin/env node
// Benchmark (issue #18, path safety): `strata layer apply` of a 20k-file layer into a fresh
// directory against GNU `tar -x` of the same tar into a fresh directory, both measured in this run
// (medians). applyLayer walks from directory descriptors (docs/PATH-SAFETY.md); this shows what that
// costs on the hot path. STRATA_BIN=… measures another build (e.g. one from before a change).
// `--also BIN`: measure that strata too, interleaved in the same run (before/after a change).
// Usage: node tools/build-cli.mjs && node tools/bench/apply-layer.mjs [--files 20000] [--kb 4] [--runs 5] [--also BIN] [--json FILE]
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STRATA, loadAverage, measure, median, option as arg, resultRow, sh, writeResults } from './lib.mjs';

const FILES = arg('files', 20_000);
const KB = arg('kb', 4); // average file size
const RUNS = arg('runs', 5);
const ALSO = arg('also', undefined);

const work = mkdtempSync(join(tmpdir(), 'strata-bench-apply-'));
try {
  const load = { start: loadAverage() };
  // A tree of FILES files, 100 per directory two levels deep, one symlink per directory.
  const src = join(work, 'src');
  const blob = randomBytes(2 * KB * 1024 + 1);
  for (let i = 0; i < FILES; i++) {
    const d = join(src, `a${Math.floor(i / 1000)}`, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) {
      mkdirSync(d, { recursive: true });
      symlinkSync(`f${i}`, join(d, 'link'));
    }
    const size = (i * 7919) % (2 * KB * 1024);
    writeFileSync(join(d, `f${i}`), blob.subarray(size % 97, (size % 97) + size));
  }
  const layer = join(work, 'layer.tar');
  sh('tar', ['--numeric-owner', '--sort=name', '-C', src, '-cf', layer, '.']);
  rmSync(src, { recursive: true, force: true });

  const strata = [];
  const also = [];
  const tar = [];
  for (let r = 0; r < RUNS; r++) {
    // Fresh directories each time (extracting over a just-removed tree is slower on ext4, PERF-NOTES).
    const a = join(work, `s${r}`);
    const b = join(work, `t${r}`);
    mkdirSync(a);
    mkdirSync(b);
    strata.push(measure(STRATA, ['layer', 'apply', a, '-i', layer]).ms);
    if (ALSO) {
      const c = join(work, `o${r}`);
      mkdirSync(c);
      also.push(measure(ALSO, ['layer', 'apply', c, '-i', layer]).ms);
    }
    tar.push(measure('tar', ['--numeric-owner', '-C', b, '-xf', layer]).ms);
  }
  load.end = loadAverage();
  const s = median(strata);
  const t = median(tar);
  const rows = [resultRow(`layer apply, ${FILES} files`, s, 'GNU tar -x', t, null, { filesPerSec: Math.round(FILES / (s / 1000)) })];
  console.log(`strata layer apply: ${Math.round(s)} ms (${rows[0].filesPerSec} files/s); GNU tar -x: ${Math.round(t)} ms; ratio ${rows[0].ratio} (load ${load.start} → ${load.end})`);
  if (ALSO) {
    const o = median(also);
    rows.push(resultRow(`layer apply, ${FILES} files (${ALSO})`, o, 'GNU tar -x', t, null, { filesPerSec: Math.round(FILES / (o / 1000)) }));
    console.log(`${ALSO} layer apply: ${Math.round(o)} ms (${rows[1].filesPerSec} files/s); this strata / that one: ${(s / o).toFixed(3)}`);
  }
  writeResults(arg('json', undefined), { bench: 'apply-layer', strata: STRATA, also: ALSO ?? null, load, results: rows });
} finally {
  rmSync(work, { recursive: true, force: true });
}
