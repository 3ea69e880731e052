// `strata image efficiency` on big images: wall time and peak RSS of the whole command (a cold
// process: start-up, reading every layer's tar headers, dive's analysis, JSON out), for
//   A: 20,000 files, ~200 MB, two layers (the second overwrites 2,000 files and deletes a dir);
//   B: the same 20,000 paths with 5× the bytes (~1 GB): RSS must not grow with bytes;
//   C: 200,000 files, ~200 MB: RSS grows with the number of paths only.
// Issue #17's bound: A ≤ 1 s and < 200 MB RSS (an absolute bound, no peer: in the results, A's
// row has the peer "bound 1 s"; B and C have neither peer nor target). The tar headers are read
// through a window of the file, not one `pread` each. dive (Go) is not measured: building it needs
// Go ≥ 1.24 and its modules, neither reachable on the development machine.
// --scale multiplies the file counts (e.g. 0.01 to check the benchmark, not to measure); with
// --json FILE, the results for tools/bench/table.mjs.
// Usage: node tools/bench/efficiency.mjs [--runs 3] [--only A,B,C] [--scale 1] [--json FILE]
import { mkdirSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { STRATA, loadAverage, measure, median, option, resultRow, sh, writeResults } from './lib.mjs';

const runs = option('runs', 3);
const only = option('only', 'A,B,C').split(',');
const scale = option('scale', 1);
const JSON_OUT = option('json', '');
const loadAtStart = loadAverage();
const BOUND_MS = 1000;
const RSS_BOUND = 200;

/** A layer tar of `files` files of `size` bytes under `prefix` (GNU tar over a real tree). */
function layer(work, name, files, size, extra = []) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const buf = Buffer.alloc(size, 7);
  for (let i = 0; i < files; i++) {
    const d = join(dir, 'data', `d${Math.floor(i / 500)}`);
    if (i % 500 === 0) mkdirSync(d, { recursive: true });
    const fd = openSync(join(d, `f${i}`), 'w');
    writeSync(fd, buf);
    closeSync(fd);
  }
  for (const [p, body] of extra) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), body);
  }
  const tar = join(work, `${name}.tar`);
  sh('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '-C', dir, '-cf', tar, '.']);
  rmSync(dir, { recursive: true, force: true });
  return tar;
}

function image(work, spec) {
  const l0 = layer(work, 'l0', spec.files, spec.size);
  // layer 1: 2,000 files rewritten (a tenth of A's), a directory deleted
  const l1dir = join(work, 'l1');
  mkdirSync(join(l1dir, 'data', 'd0'), { recursive: true });
  const first = Math.min(500, Math.floor(spec.files / 4)); // 500 but in a smaller image (--scale)
  for (let i = first; i < first + Math.min(2000, spec.files / 10); i++) {
    const d = join(l1dir, 'data', `d${Math.floor(i / 500)}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}`), Buffer.alloc(spec.size, 9));
  }
  writeFileSync(join(l1dir, 'data', 'd0', '.wh..wh..opq'), '');
  writeFileSync(join(l1dir, 'data', '.wh.d1'), '');
  const l1 = join(work, 'l1.tar');
  sh('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '-C', l1dir, '-cf', l1, '.']);
  rmSync(l1dir, { recursive: true, force: true });
  const arch = join(work, 'arch');
  mkdirSync(join(arch, 'l0'), { recursive: true });
  mkdirSync(join(arch, 'l1'), { recursive: true });
  sh('mv', [l0, join(arch, 'l0', 'layer.tar')]);
  sh('mv', [l1, join(arch, 'l1', 'layer.tar')]);
  const diffIds = ['l0', 'l1'].map((l) => `sha256:${sh('sha256sum', [join(arch, l, 'layer.tar')]).split(' ')[0]}`);
  const config = { architecture: 'amd64', os: 'linux', created: '2024-01-01T00:00:00Z', rootfs: { type: 'layers', diff_ids: diffIds }, history: [{ created_by: 'base' }, { created_by: 'RUN rewrite' }] };
  writeFileSync(join(arch, 'config.json'), JSON.stringify(config));
  writeFileSync(join(arch, 'manifest.json'), JSON.stringify([{ Config: 'config.json', RepoTags: [`bench/eff-${spec.name.toLowerCase()}:1`], Layers: ['l0/layer.tar', 'l1/layer.tar'] }]));
  const root = join(work, 'store');
  sh(STRATA, ['--root', root, 'image', 'load', '-i', arch]);
  rmSync(arch, { recursive: true, force: true });
  return root;
}

const SPECS = [
  { name: 'A', files: 20_000, size: 10_000 },
  { name: 'B', files: 20_000, size: 50_000 },
  { name: 'C', files: 200_000, size: 1_000 },
].map((s) => ({ ...s, files: Math.max(10, Math.round(s.files * scale)) }));
const rows = [];
console.log('| image | files | bytes | wall (median) | peak RSS | efficiency |');
console.log('|---|---|---|---|---|---|');
for (const spec of SPECS.filter((s) => only.includes(s.name))) {
  const work = mkdtempSync(join(tmpdir(), `strata-bench-eff-${spec.name}-`));
  try {
    const root = image(work, spec);
    const results = [];
    for (let i = 0; i < runs; i++) results.push(measure(STRATA, ['--root', root, '--format', 'json', 'image', 'efficiency', `bench/eff-${spec.name.toLowerCase()}:1`]));
    const eff = JSON.parse(results[0].stdout).image;
    console.log(`| ${spec.name} | ${spec.files.toLocaleString('en')} | ${(eff.sizeBytes / 1e6).toFixed(0)} MB | ${median(results.map((r) => r.secs)).toFixed(2)} s | ${median(results.map((r) => r.rssMB)).toFixed(0)} MB | ${eff.efficiencyScore.toFixed(4)} |`);
    const ms = median(results.map((r) => r.ms));
    const rssMb = Math.round(median(results.map((r) => r.rssMB)));
    const name = `image efficiency, cold: ${spec.name}, ${spec.files.toLocaleString('en')} files, ${(eff.sizeBytes / 1e6).toFixed(0)} MB`;
    const extra = { rssMb, files: spec.files, sizeBytes: eff.sizeBytes, efficiencyScore: eff.efficiencyScore };
    if (spec.name === 'A') {
      const row = resultRow(name, ms, 'bound 1 s', BOUND_MS, 1, { ...extra, rssTargetMb: RSS_BOUND });
      rows.push({ ...row, ok: row.ok && rssMb < RSS_BOUND });
    } else rows.push(resultRow(name, ms, null, null, null, extra));
  } finally {
    if (!process.env.KEEP) rmSync(work, { recursive: true, force: true });
    else console.log(work);
  }
}
writeResults(JSON_OUT, { bench: 'efficiency', runs, scale, load: { start: loadAtStart, end: loadAverage() }, results: rows });
