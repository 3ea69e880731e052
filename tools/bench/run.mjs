#!/usr/bin/env node
// Benchmark: containers on shared snapshots.
// 1. Two images on the same busybox base (the second = the first + one committed layer):
//    creating a container from the second unpacks only its top layer (counted with -v, which
//    prints "snapshots: N unpacked, M reused", and by the snapshot dirs on disk).
// 2. `strata container run --rm IMAGE true` against `docker run --rm IMAGE true`, measured in the
//    same run: median wall time, ratio, peak RSS of the strata process. No issue sets a target.
// Not part of the test suite. With --json FILE, the results for tools/bench/table.mjs.
//
//   node tools/build-cli.mjs && node tools/bench/run.mjs [--runs N] [--json FILE]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER, REPO, STRATA as strata, loadAverage, measure, median, option, resultRow, writeResults } from './lib.mjs';

const BASE = 'strata-it-run/bench-base:1';
const SECOND = 'strata-it-run/bench-second:1';
const runs = option('runs', 10);
const JSON_OUT = option('json', '');
const loadAtStart = loadAverage();
const work = mkdtempSync(join(tmpdir(), 'strata-bench-run-'));
const root = join(work, 'store');

function s(args, opts = {}) {
  const r = spawnSync(strata, ['--root', root, ...args], { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`strata ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r;
}

/** The busybox base rootfs tar, made like the tests' (tools/make-busybox-rootfs.sh). */
function busyboxTar() {
  const out = join(work, 'busybox.tar');
  execFileSync('bash', [join(REPO, 'tools/make-busybox-rootfs.sh'), out]);
  return out;
}

try {
  const tar = busyboxTar();
  s(['image', 'import', '--change', 'CMD ["sh"]', tar, BASE]);
  const snaps = () => (existsSync(join(root, 'snapshots')) ? readdirSync(join(root, 'snapshots')).filter((n) => !n.startsWith('.')).length : 0);

  // 1. shared snapshots
  const a = s(['-v', 'container', 'create', '--name', 'bench-a', BASE, 'true']);
  const afterFirst = snaps();
  s(['container', 'run', '--name', 'bench-w', BASE, 'sh', '-c', 'echo hi > /hello']);
  s(['container', 'commit', 'bench-w', SECOND]);
  const b = s(['-v', 'container', 'create', '--name', 'bench-b', SECOND, 'true']);
  const afterSecond = snaps();
  console.log(`first image:  ${a.stderr.trim()} (snapshot dirs: ${afterFirst})`);
  console.log(`second image: ${b.stderr.trim()} (snapshot dirs: ${afterSecond})`);
  const unpackedSecond = Number(/(\d+) unpacked/.exec(b.stderr)?.[1]);
  const shared = unpackedSecond === 1 && afterSecond === afterFirst + 1;
  console.log(shared ? 'OK: the base was not unpacked again' : 'FAIL: the base was unpacked again');
  s(['container', 'rm', 'bench-a', 'bench-b', 'bench-w']);

  // 2. run … true against docker run --rm … true
  let docker = false;
  if (spawnSync(DOCKER, ['info'], { stdio: 'ignore' }).status === 0) {
    execFileSync(DOCKER, ['import', '--change', 'CMD ["sh"]', tar, BASE], { stdio: 'ignore' });
    docker = true;
  }
  const st = [];
  const dk = [];
  let rss = 0;
  measure(strata, ['--root', root, 'container', 'run', '--rm', BASE, 'true']); // warm-up
  if (docker) measure(DOCKER, ['run', '--rm', BASE, 'true']);
  for (let i = 0; i < runs; i++) {
    const t = measure(strata, ['--root', root, 'container', 'run', '--rm', BASE, 'true']);
    st.push(t.secs);
    rss = Math.max(rss, t.rssMB);
    if (docker) dk.push(measure(DOCKER, ['run', '--rm', BASE, 'true']).secs);
  }
  console.log(`strata container run --rm ${BASE} true: median ${median(st).toFixed(3)} s, peak RSS ${rss.toFixed(0)} MB (${runs} runs)`);
  if (docker) {
    console.log(`docker run --rm ${BASE} true:           median ${median(dk).toFixed(3)} s`);
    console.log(`ratio strata/docker: ${(median(st) / median(dk)).toFixed(2)}`);
  } else console.log('docker not available: no ratio');
  console.log('note: dist/strata hands NODE_EXTRA_CA_CERTS to strata to read on first TLS use; node would otherwise spend ~50 ms a start parsing it');
  const note = `a second image on the same base: ${shared ? 'only its own layer unpacked' : '**the base unpacked again**'}`;
  const row = resultRow('container run --rm IMAGE true', median(st) * 1000, docker ? 'docker run --rm' : null, docker ? median(dk) * 1000 : null, null, { rssMb: Math.round(rss), note });
  writeResults(JSON_OUT, { bench: 'run', runs, sharedSnapshots: { unpackedSecond, snapshotDirs: [afterFirst, afterSecond], ok: shared }, load: { start: loadAtStart, end: loadAverage() }, results: [row] });
} finally {
  spawnSync(DOCKER, ['rmi', '-f', BASE], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}
