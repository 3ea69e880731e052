// What every benchmark here shares: where strata and docker are, options, medians, one
// measurement of a command (wall time and peak RSS), and the Docker busybox base.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
// The `strata` command as users run it (dist/strata, the launcher that also keeps
// NODE_EXTRA_CA_CERTS off start-up).
export const STRATA = process.env.STRATA_BIN ?? join(REPO, 'dist/strata');
if (!existsSync(STRATA)) throw new Error('build the CLI first: node tools/build-cli.mjs');
export const DOCKER = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';

/** `--name VALUE` from the command line, or `def`. Numbers when `def` is a number. */
export function option(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= process.argv.length) return def;
  return typeof def === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}

/** The three load averages, as the results record them ("1.2 0.9 0.7"); the figures move with the load. */
export const loadAverage = () => loadavg().map((x) => x.toFixed(1)).join(' ');

/**
 * One row of a benchmark's `results` (the README table's row, tools/bench/table.mjs): strata's time
 * against a peer's. `peer` null: nothing to compare with (peerMs and ratio null). A peer named
 * `bound …` is an absolute bound from an issue (peerMs the bound). `target` null: no target;
 * otherwise `ok` says whether the ratio met it (and `ok` given in `extra` wins, for targets with a
 * second condition). `extra` may carry `rssMb`, `rssTargetMb`, `note` and bench-specific fields.
 */
export function resultRow(name, strataMs, peer, peerMs, target, extra = {}) {
  const ratio = peer === null || !peerMs ? null : Number((strataMs / peerMs).toFixed(3));
  return { name, strataMs: Math.round(strataMs), peer, peerMs: peer === null ? null : Math.round(peerMs), ratio, target, ok: target === null || ratio === null ? null : ratio <= target, ...extra };
}

/** Write a benchmark's results (`{ bench, load: {start, end}, results, … }`) to `file`, when one was given (`--json FILE`). */
export function writeResults(file, out) {
  if (file) writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
}

/** Run `a` and `b` once each: `a` first in an even round, `b` first in an odd one (a pair takes turns going first). */
export function inTurns(round, a, b) {
  if (round % 2 === 0) {
    a();
    b();
  } else {
    b();
    a();
  }
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Run a command once: wall time (ms and s), peak RSS in MB (GNU time's %M), its stdout. An exit
 * code outside `okCodes` (default 0) throws with the end of its stderr.
 */
export function measure(cmd, argv, { env = process.env, okCodes = [0] } = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...argv], { encoding: 'utf8', env, maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!okCodes.includes(r.status)) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
  return { ms, secs: ms / 1000, rssMB: Number(r.stderr.trim().split('\n').at(-1)) / 1024, stdout: r.stdout };
}

/** Run a command (DOCKER_BUILDKIT=1 in its env) and return its stdout; a failure throws with its stderr. */
export function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts, env: { ...process.env, DOCKER_BUILDKIT: '1', ...opts.env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** The busybox base the tests use (tools/make-busybox-rootfs.sh), imported into Docker when missing. */
export const DOCKER_BASE = 'strata-test/busybox:latest';
export function ensureDockerBase() {
  if (spawnSync(DOCKER, ['image', 'inspect', DOCKER_BASE], { stdio: 'ignore' }).status === 0) return;
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-'));
  try {
    sh('bash', [join(REPO, 'tools/make-busybox-rootfs.sh'), join(dir, 'rootfs.tar')]);
    sh(DOCKER, ['import', '--change', 'CMD ["sh"]', join(dir, 'rootfs.tar'), DOCKER_BASE]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `sync`, then wait `seconds` (none by default; `--settle SECONDS` on the benchmarks that create
 * many files). Why: on ext4 without a journal (the development VM's root), allocating an inode
 * passes over every free one whose deletion is recent (`recently_deleted()` in the kernel's
 * fs/ext4/ialloc.c: a minute, five more while its inode table block is dirty). For a few minutes
 * after thousands of files were removed (a test run, an earlier benchmark's cleanup), creating
 * 20,000 files took 2–10 s instead of 0.6–0.8 s, in whatever directory landed in the inode groups
 * of the deleted files: one builder could be hit and the other not. A probe that creates files
 * could not tell (its own directories landed elsewhere), so this waits the kernel's window out.
 */
export function settle(seconds) {
  if (!(seconds > 0)) return;
  spawnSync('sync');
  console.log(`waiting ${seconds} s for the filesystem's recently deleted inodes to age (--settle)`);
  spawnSync('sleep', [String(seconds)]);
}
