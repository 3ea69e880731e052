#!/usr/bin/env node
// Benchmark: strata against skopeo and Docker on a local docker-registry, in the same run. An image
// of ~200 MB (busybox + 20,000 small files + 150 MiB of incompressible data, 5 layers); a fresh
// registry directory for each cold step. Prints wall times, peak RSS and the ratios the registry
// issue targets: pull ≤ 1.5× `skopeo copy docker:// oci:` and ≤ 0.3× `docker pull`; push of a built
// image (compression included) ≤ 0.5× `docker push`; a no-op push and a remote inspect ≤ 0.3 s
// wall; peak RSS < 150 MB moving a 1 GiB layer (--big). Not part of the test suite.
// `skopeo copy docker:// oci:` is the floor, not an equal: it neither decompresses the layers,
// hashes the uncompressed tars nor fsyncs, all of which a pull into strata's store does. A no-op
// push and a remote inspect are mostly node's and the bundle's start (`strata --version` is timed
// beside them, as is `skopeo inspect`). Pulls: --pull-pairs skopeo–strata pairs a run (3), taking
// turns going first, each after `sync`. --files, --mib and --big-mib make the images smaller (a
// check of the benchmark, not a measurement); with --json FILE, the results for tools/bench/table.mjs.
//
//   node tools/build-cli.mjs && node tools/bench/registry.mjs [--runs N] [--pull-pairs 3] [--big] [--keep] [--files 20000] [--mib 150]
//        [--big-mib 1024] [--json FILE]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomFillSync } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER, STRATA as strata, ensureDockerBase, DOCKER_BASE, inTurns, loadAverage, measure, median, option, resultRow, writeResults } from './lib.mjs';

const FILES = option('files', 20_000);
const MIB = option('mib', 150);
// built by the classic builder: BuildKit's cache would keep the layers through `docker rmi`, and
// `docker pull` would not be cold; kept in Docker and used again, so its tag names its size
const IMAGE = `strata-bench-registry/app:${FILES === 20_000 && MIB === 150 ? '2' : `2-${FILES}f-${MIB}m`}`;
// the incompressible data in three files (60, 50 and 40 MiB at the default size)
const DATA_MIB = [Math.max(1, Math.round((MIB * 60) / 150)), Math.max(1, Math.round((MIB * 50) / 150))];
DATA_MIB.push(Math.max(1, MIB - DATA_MIB[0] - DATA_MIB[1]));
const keep = process.argv.includes('--keep');
const big = process.argv.includes('--big');
const BIG_MIB = option('big-mib', 1024);
const bigName = BIG_MIB === 1024 ? '1 GiB' : `${BIG_MIB} MiB`;
const runs = option('runs', 1);
const JSON_OUT = option('json', '');
const loadAtStart = loadAverage();
const RSS_TARGET = 150;
const work = mkdtempSync(join(tmpdir(), 'strata-bench-registry-'));
const env = { ...process.env, DOCKER_CONFIG: join(work, 'docker-config') };
mkdirSync(env.DOCKER_CONFIG, { recursive: true });

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** docker-registry on 127.0.0.1 with its storage in a fresh directory. */
async function startRegistry(name) {
  const dir = join(work, `registry-${name}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  writeFileSync(join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: ${host}\n`);
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const r = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${host}/v2/`], { encoding: 'utf8' });
    if (r.stdout === '200') break;
    await new Promise((r2) => setTimeout(r2, 100));
  }
  return { host, stop: () => child.kill('SIGTERM'), dir };
}

function ensureImage() {
  if (spawnSync(DOCKER, ['image', 'inspect', IMAGE], { stdio: 'ignore' }).status === 0) return;
  ensureDockerBase();
  console.error(`building ${IMAGE} (busybox + ${FILES.toLocaleString('en')} small files + ${DATA_MIB[0] + DATA_MIB[1] + DATA_MIB[2]} MiB of random data)…`);
  const ctx = join(work, 'ctx');
  mkdirSync(join(ctx, 'small'), { recursive: true });
  for (let d = 0; d * 200 < FILES; d++) {
    mkdirSync(join(ctx, 'small', String(d)));
    for (let f = 0; f < 200 && d * 200 + f < FILES; f++) writeFileSync(join(ctx, 'small', String(d), `f${f}.txt`), `${'line of text '.repeat(40 + ((d * 200 + f) % 80))}\n`);
  }
  const buf = Buffer.alloc(1 << 20);
  for (const [name, mib] of [['data1', DATA_MIB[0]], ['data2', DATA_MIB[1]], ['data3', DATA_MIB[2]]]) {
    const fd = openSync(join(ctx, name), 'w');
    for (let n = 0; n < mib; n++) writeSync(fd, randomFillSync(buf));
    closeSync(fd);
  }
  writeFileSync(join(ctx, 'Dockerfile'), `FROM ${DOCKER_BASE}\nCOPY small /small\nCOPY data1 /data1\nCOPY data2 /data2\nCOPY data3 /data3\n`);
  execFileSync(DOCKER, ['build', '-q', '-t', IMAGE, ctx], { env: { ...process.env, DOCKER_BUILDKIT: '0' }, stdio: 'inherit' });
  rmSync(ctx, { recursive: true, force: true });
}

const fmt = (s) => `${s.toFixed(2)}s`;
const results = {};
/** skopeo–strata pull pairs a run (a pull takes about a second; its spread is wide) */
const PULL_PAIRS = option('pull-pairs', 3);
const note = (k, v) => (results[k] ??= []).push(v);

try {
  ensureImage();
  const storeA = join(work, 'store-a');
  // the built image in strata's store, as a build leaves it: uncompressed, no registry history
  execFileSync('sh', ['-c', `${DOCKER} save ${IMAGE} | ${strata} --root ${storeA} image load -q`], { stdio: 'inherit' });
  for (let run = 0; run < runs; run++) {
    // push, cold: a fresh registry each
    const rd = await startRegistry('docker-push');
    const rs = await startRegistry('strata-push');
    try {
      execFileSync(DOCKER, ['tag', IMAGE, `${rd.host}/bench:d`]);
      const dpush = measure(DOCKER, ['push', `${rd.host}/bench:d`], { env });
      execFileSync(DOCKER, ['rmi', `${rd.host}/bench:d`], { stdio: 'ignore' });
      // a built image has no compressed form yet: forget what an earlier run pushed
      rmSync(join(storeA, 'distribution'), { recursive: true, force: true });
      const spush = measure(strata, ['--root', storeA, 'push', '-q', IMAGE, `${rs.host}/bench:s`], { env });
      const noop = measure(strata, ['--root', storeA, 'push', '-q', IMAGE, `${rs.host}/bench:s`], { env });
      const inspect = measure(strata, ['image', 'inspect', `docker://${rs.host}/bench:s`], { env });
      const skInspect = measure('skopeo', ['inspect', '--tls-verify=false', `docker://${rs.host}/bench:s`], { env });
      // node's and the bundle's own start, for scale: a busy machine stretches it most
      const startup = measure(strata, ['--version'], { env });
      note('startup', startup.secs);
      note('dockerPush', dpush.secs);
      note('strataPush', spush.secs);
      note('pushRss', spush.rssMB);
      note('noopPush', noop.secs);
      note('inspect', inspect.secs);
      note('skopeoInspect', skInspect.secs);
      console.log(`run ${run + 1} push: docker ${fmt(dpush.secs)}, strata ${fmt(spush.secs)} (${(spush.secs / dpush.secs).toFixed(2)}×, RSS ${spush.rssMB.toFixed(0)} MB) | no-op push ${fmt(noop.secs)} | inspect docker:// ${fmt(inspect.secs)} (skopeo ${fmt(skInspect.secs)}; strata --version ${fmt(startup.secs)})`);

      // pull, cold, of what docker pushed (gzip layers as Docker writes them): PULL_PAIRS pairs
      // of skopeo and strata a run, taking turns going first, each into a new directory. Each
      // pull starts with the disk's writeback done (`sync`): skopeo leaves its ~160 MB dirty (it
      // does not fsync), and the pull after it would wait on that writeback too.
      const rounds = [];
      for (let k = 0; k < PULL_PAIRS; k++) {
        const oci = join(work, `oci-${run}-${k}`);
        const storeB = join(work, `store-b-${run}-${k}`);
        const skopeo = () => {
          execFileSync('sync');
          return measure('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${rd.host}/bench:d`, `oci:${oci}:x`], { env });
        };
        const ours = () => {
          execFileSync('sync');
          return measure(strata, ['--root', storeB, 'pull', '-q', `${rd.host}/bench:d`], { env });
        };
        let skopeoPull, spull;
        inTurns(
          run * PULL_PAIRS + k,
          () => (skopeoPull = skopeo()),
          () => (spull = ours()),
        );
        note('skopeoPull', skopeoPull.secs);
        note('strataPull', spull.secs);
        note('pullRss', spull.rssMB);
        rounds.push(`${fmt(spull.secs)}/${fmt(skopeoPull.secs)}`);
        rmSync(oci, { recursive: true, force: true });
        rmSync(storeB, { recursive: true, force: true });
      }
      // docker pull, cold: the image (and its layers) leave Docker first; the busybox base stays
      const id = execFileSync(DOCKER, ['image', 'inspect', '-f', '{{.Id}}', IMAGE], { encoding: 'utf8' }).trim();
      execFileSync(DOCKER, ['rmi', '-f', id], { stdio: 'ignore' });
      execFileSync('sync');
      const dpull = measure(DOCKER, ['pull', '-q', `${rd.host}/bench:d`], { env });
      execFileSync(DOCKER, ['tag', `${rd.host}/bench:d`, IMAGE]);
      execFileSync(DOCKER, ['rmi', `${rd.host}/bench:d`], { stdio: 'ignore' });
      note('dockerPull', dpull.secs);
      console.log(`run ${run + 1} pull: strata/skopeo ${rounds.join(', ')}; docker pull ${fmt(dpull.secs)}`);
    } finally {
      rd.stop();
      rs.stop();
    }
  }
  const m = (k) => median(results[k]);
  console.log('\nmedians:');
  console.log(`  pull:   strata ${fmt(m('strataPull'))} = ${(m('strataPull') / m('skopeoPull')).toFixed(2)}× skopeo copy (target ≤ 1.5), ${(m('strataPull') / m('dockerPull')).toFixed(2)}× docker pull (target ≤ 0.3); peak RSS ${m('pullRss').toFixed(0)} MB`);
  console.log(`  push:   strata ${fmt(m('strataPush'))} = ${(m('strataPush') / m('dockerPush')).toFixed(2)}× docker push (target ≤ 0.5); peak RSS ${m('pushRss').toFixed(0)} MB`);
  console.log(`  no-op push ${fmt(m('noopPush'))}, inspect docker:// ${fmt(m('inspect'))} (target ≤ 0.3 s each; skopeo inspect ${fmt(m('skopeoInspect'))}; strata --version ${fmt(m('startup'))})`);
  console.log(`  load average during the run: ${loadavg().map((x) => x.toFixed(1)).join(' ')} (2 cores: figures above ~2 mean a contended machine)`);
  const size = `${FILES.toLocaleString('en')} small files + ${DATA_MIB[0] + DATA_MIB[1] + DATA_MIB[2]} MiB, 5 layers`;
  const pullRss = { rssMb: Math.round(m('pullRss')), rssTargetMb: RSS_TARGET };
  const rssOk = (row) => ({ ...row, ok: row.ok && row.rssMb < RSS_TARGET });
  const rows = [
    rssOk(resultRow(`pull, cold (${size})`, m('strataPull') * 1000, 'skopeo copy docker:// oci:', m('skopeoPull') * 1000, 1.5, { ...pullRss, note: `${results.strataPull.length} pairs, taking turns, each after \`sync\`` })),
    rssOk(resultRow(`pull, cold (${size})`, m('strataPull') * 1000, 'docker pull', m('dockerPull') * 1000, 0.3, pullRss)),
    rssOk(resultRow(`push of a built image, gzip included (${size})`, m('strataPush') * 1000, 'docker push', m('dockerPush') * 1000, 0.5, { rssMb: Math.round(m('pushRss')), rssTargetMb: RSS_TARGET })),
    resultRow('push, nothing to send', m('noopPush') * 1000, 'bound 300 ms', 300, 1, { note: `\`strata --version\` alone ${Math.round(m('startup') * 1000)} ms` }),
    resultRow('image inspect docker://', m('inspect') * 1000, 'bound 300 ms', 300, 1, { skopeoMs: Math.round(m('skopeoInspect') * 1000), note: `\`skopeo inspect\` ${Math.round(m('skopeoInspect') * 1000)} ms; \`strata --version\` alone ${Math.round(m('startup') * 1000)} ms` }),
  ];

  if (big) {
    // peak RSS moving a 1 GiB layer: push (compressing) and pull (decompressing), both streaming
    const src = join(work, 'big');
    mkdirSync(src);
    const fd = openSync(join(src, 'blob'), 'w');
    const buf = Buffer.alloc(1 << 20);
    for (let n = 0; n < BIG_MIB; n++) writeSync(fd, randomFillSync(buf));
    closeSync(fd);
    execFileSync('tar', ['-C', src, '-cf', join(work, 'big.tar'), 'blob']);
    rmSync(src, { recursive: true, force: true });
    const storeC = join(work, 'store-c');
    execFileSync(strata, ['--root', storeC, 'image', 'import', join(work, 'big.tar'), 'big:1'], { stdio: 'ignore' });
    rmSync(join(work, 'big.tar'), { force: true });
    const r = await startRegistry('big');
    try {
      const push = measure(strata, ['--root', storeC, 'push', '-q', 'big:1', `${r.host}/big:1`], { env });
      const pull = measure(strata, ['--root', join(work, 'store-d'), 'pull', '-q', `${r.host}/big:1`], { env });
      console.log(`  ${bigName} layer: push ${fmt(push.secs)} peak RSS ${push.rssMB.toFixed(0)} MB; pull ${fmt(pull.secs)} peak RSS ${pull.rssMB.toFixed(0)} MB (target < 150 MB)`);
      for (const [name, x] of [[`${bigName} layer: push (compressing)`, push], [`${bigName} layer: pull (decompressing)`, pull]]) {
        rows.push(resultRow(name, x.ms, null, null, null, { rssMb: Math.round(x.rssMB), rssTargetMb: RSS_TARGET, ok: x.rssMB < RSS_TARGET }));
      }
    } finally {
      r.stop();
    }
  }
  writeResults(JSON_OUT, { bench: 'registry', files: FILES, mib: MIB, runs, big, load: { start: loadAtStart, end: loadAverage() }, results: rows });
} finally {
  if (!keep) rmSync(work, { recursive: true, force: true });
  else console.error(`kept ${work}`);
}
