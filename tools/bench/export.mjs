#!/usr/bin/env node
// Benchmark (issue #3): `strata image export` of a 5-layer image with 50k files against
// `docker export` of a container created from the same image (target ratio ≤ 1.0) and against
// GNU `tar -c` of the same tree (reported), all measured in this run; peak RSS of strata via
// /usr/bin/time -v (target < 200 MB). Also `strata layer diff` of two such images (seconds,
// files/s, peak RSS). Outputs go to real files (not /dev/null: tar would skip reading data).
// Usage: node tools/build-cli.mjs && node tools/bench/export.mjs [--files 50000] [--kb 6] [--runs 3]
// Needs dockerd and /usr/bin/docker. Not part of CI's pass/fail.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
// The `strata` command as users run it (dist/strata, the launcher that also keeps NODE_EXTRA_CA_CERTS off start-up).
const STRATA = join(repo, 'dist/strata');
const DOCKER = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
const BASE = 'strata-test/busybox:latest';
const TAG_A = 'strata-it-layers/bench-a';
const TAG_B = 'strata-it-layers/bench-b';
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const FILES = arg('files', 50_000);
const KB = arg('kb', 6); // average file size
const RUNS = arg('runs', 3);
const LAYERS = 5;

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts, env: { ...process.env, DOCKER_BUILDKIT: '1', ...opts.env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

function ensureBase() {
  if (spawnSync(DOCKER, ['image', 'inspect', BASE], { stdio: 'ignore' }).status === 0) return;
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-'));
  sh('bash', [join(repo, 'tools/make-busybox-rootfs.sh'), join(dir, 'rootfs.tar')]);
  sh(DOCKER, ['import', '--change', 'CMD ["sh"]', join(dir, 'rootfs.tar'), BASE]);
  rmSync(dir, { recursive: true, force: true });
}

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

/** Wall seconds and peak RSS (MB) of a command, via /usr/bin/time -v. */
function measure(argv, opts = {}) {
  const r = spawnSync('/usr/bin/time', ['-v', ...argv], { encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
  if (r.status !== 0 && !(opts.okCodes ?? []).includes(r.status)) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const wall = r.stderr.match(/Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/);
  const rss = r.stderr.match(/Maximum resident set size \(kbytes\): (\d+)/);
  const s = (Number(wall[1] ?? 0) * 3600) + Number(wall[2]) * 60 + Number(wall[3]);
  return { s, rssMB: Number(rss[1]) / 1024, stdout: r.stdout };
}

function median(label, argv, opts) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    opts?.before?.();
    runs.push(measure(argv, opts));
  }
  runs.sort((x, y) => x.s - y.s);
  const m = runs[Math.floor(runs.length / 2)];
  console.log(`${label.padEnd(44)} ${m.s.toFixed(2).padStart(7)} s   peak RSS ${m.rssMB.toFixed(0).padStart(5)} MB`);
  return m;
}

ensureBase();
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
  const strata = median('strata image export -o FILE', [STRATA, '--root', root, 'image', 'export', TAG_A, '-o', out], { before: rm });
  const docker = median('docker export -o FILE', [DOCKER, 'export', '-o', out, cid], { before: rm });
  // GNU tar of the same tree: extract strata's export once, then tar it up.
  const tree = join(work, 'tree');
  mkdirSync(tree);
  sh(STRATA, ['--root', root, 'image', 'export', TAG_A, '-o', out]);
  sh('tar', ['-xf', out, '-C', tree]);
  const gnu = median('GNU tar -c (same tree) -f FILE', ['tar', '-cf', out, '-C', tree, '.'], { before: rm });
  sh(DOCKER, ['rm', cid]);
  console.log(`ratio strata/docker export: ${(strata.s / docker.s).toFixed(2)} (target ≤ 1.0)`);
  console.log(`ratio strata/GNU tar -c:    ${(strata.s / gnu.s).toFixed(2)}`);
  const diff = median('strata layer diff A B', [STRATA, '--root', root, 'layer', 'diff', TAG_A, TAG_B, '--summary'], { okCodes: [1] });
  const entries = Number(sh(STRATA, ['--root', root, '-q', 'image', 'files', '-R', TAG_B]).split('\n').length - 1);
  console.log(`layer diff: ${diff.s.toFixed(2)} s, ${(entries / diff.s).toFixed(0)} files/s over ${entries} entries (${diff.stdout.trim()})`);
  console.log(`peak RSS < 200 MB: export ${strata.rssMB < 200 ? 'yes' : 'NO'}, diff ${diff.rssMB < 200 ? 'yes' : 'NO'}`);
} finally {
  spawnSync(DOCKER, ['rmi', TAG_B, TAG_A], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}
