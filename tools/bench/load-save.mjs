#!/usr/bin/env node
// Benchmark: `strata image load` / `image save` of a ~1 GiB, 5-layer image against `docker load` /
// `docker save`, measured in the same run. Prints wall time, peak RSS and the ratio to the peer
// (target, issue #2: ratio ≤ 1.0, peak RSS < 150 MB). Not part of the test suite. --mib sets
// each layer's size (default 205: 5 × 205 MiB ≈ 1 GiB); with --json FILE, the results for
// tools/bench/table.mjs.
//
//   node tools/build-cli.mjs && node tools/bench/load-save.mjs [--keep] [--runs N] [--mib 205] [--json FILE]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, statSync, openSync, closeSync, writeSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER, STRATA as strata, loadAverage, measure, median, option, resultRow, writeResults } from './lib.mjs';

const MIB = option('mib', 205);
// kept with --keep and used again by the next run: its tag names its size
const IMAGE = `strata-it-formats/bench:${MIB === 205 ? '1' : `${MIB}m`}`;
const keep = process.argv.includes('--keep');
const runs = option('runs', 1);
const JSON_OUT = option('json', '');
const loadAtStart = loadAverage();
const RSS_TARGET = 150;
const work = mkdtempSync(join(tmpdir(), 'strata-bench-load-save-'));

const denv = { ...process.env, DOCKER_BUILDKIT: '1' };
const timed = (cmd, args) => measure(cmd, args, { env: denv });

function ensureImage() {
  if (spawnSync(DOCKER, ['image', 'inspect', IMAGE], { stdio: 'ignore' }).status === 0) return;
  console.error(`building ${IMAGE} (5 layers × ${MIB} MiB of random bytes)…`);
  const ctx = join(work, 'ctx');
  mkdirSync(ctx);
  const buf = Buffer.alloc(1 << 20);
  for (let i = 1; i <= 5; i++) {
    const fd = openSync(join(ctx, `f${i}`), 'w');
    for (let n = 0; n < MIB; n++) writeSync(fd, randomFillSync(buf));
    closeSync(fd);
  }
  writeFileSync(join(ctx, 'Dockerfile'), `FROM scratch\n${[1, 2, 3, 4, 5].map((i) => `COPY f${i} /f${i}`).join('\n')}\n`);
  execFileSync(DOCKER, ['build', '-q', '-t', IMAGE, ctx], { env: { ...process.env, DOCKER_BUILDKIT: '1' }, stdio: 'inherit' });
  rmSync(ctx, { recursive: true, force: true });
}

try {
  ensureImage();
  const results = { dockerSave: [], strataLoad: [], strataSave: [], dockerLoad: [], loadRss: [], saveRss: [] };
  let archiveMiB = 0;
  for (let run = 0; run < runs; run++) {
    const dockerTar = join(work, `docker-${run}.tar`);
    const strataTar = join(work, `strata-${run}.tar`);
    const root = join(work, `root-${run}`);
    const ds = timed(DOCKER, ['save', '-o', dockerTar, IMAGE]);
    const sl = timed(strata, ['--root', root, 'image', 'load', '-i', dockerTar]);
    const ss = timed(strata, ['--root', root, 'image', 'save', '-o', strataTar, IMAGE]);
    const id = execFileSync(DOCKER, ['image', 'inspect', '--format', '{{.Id}}', IMAGE], { encoding: 'utf8' }).trim();
    execFileSync(DOCKER, ['rmi', '-f', id], { stdio: 'ignore' });
    const dl = timed(DOCKER, ['load', '-i', dockerTar]);
    results.dockerSave.push(ds.secs);
    results.strataLoad.push(sl.secs);
    results.strataSave.push(ss.secs);
    results.dockerLoad.push(dl.secs);
    results.loadRss.push(sl.rssMB);
    results.saveRss.push(ss.rssMB);
    archiveMiB = Math.round(statSync(dockerTar).size / 2 ** 20);
    console.log(`run ${run + 1}: archive ${archiveMiB} MiB | docker save ${ds.secs.toFixed(2)}s, strata save ${ss.secs.toFixed(2)}s | docker load ${dl.secs.toFixed(2)}s, strata load ${sl.secs.toFixed(2)}s`);
    rmSync(dockerTar, { force: true });
    rmSync(strataTar, { force: true });
    rmSync(root, { recursive: true, force: true });
  }
  const load = median(results.strataLoad) / median(results.dockerLoad);
  const save = median(results.strataSave) / median(results.dockerSave);
  console.log(`image load: strata ${median(results.strataLoad).toFixed(2)}s vs docker ${median(results.dockerLoad).toFixed(2)}s → ratio ${load.toFixed(2)} (target ≤ 1.0); peak RSS ${Math.max(...results.loadRss).toFixed(0)} MB (target < 150)`);
  console.log(`image save: strata ${median(results.strataSave).toFixed(2)}s vs docker ${median(results.dockerSave).toFixed(2)}s → ratio ${save.toFixed(2)} (target ≤ 1.0); peak RSS ${Math.max(...results.saveRss).toFixed(0)} MB (target < 150)`);
  const size = `${archiveMiB} MiB, 5 layers`;
  const rows = [
    ['image load', results.strataLoad, 'docker load', results.dockerLoad, results.loadRss],
    ['image save', results.strataSave, 'docker save', results.dockerSave, results.saveRss],
  ].map(([name, s, peer, d, rss]) => {
    const rssMb = Math.round(Math.max(...rss));
    const row = resultRow(`${name} (${size})`, median(s) * 1000, peer, median(d) * 1000, 1, { rssMb, rssTargetMb: RSS_TARGET });
    return { ...row, ok: row.ok && rssMb < RSS_TARGET };
  });
  writeResults(JSON_OUT, { bench: 'load-save', mibPerLayer: MIB, archiveMiB, runs, load: { start: loadAtStart, end: loadAverage() }, results: rows });
} finally {
  rmSync(work, { recursive: true, force: true });
  if (!keep) spawnSync(DOCKER, ['rmi', IMAGE], { stdio: 'ignore' });
}
