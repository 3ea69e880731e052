#!/usr/bin/env node
// Benchmark: a container with a published port on the bridge, strata against Docker in the same
// run (alternating, so all see the same machine load):
//   strata container run --rm -p 18080:80 IMAGE true   vs   docker run --rm -p 18080:80 IMAGE true
// against two dockerds: the machine's shared one (run with --iptables=false: -p is only a
// userland proxy there) and one with Docker's default networking (iptables and NAT, as strata's
// bridge; tools/docker-with-iptables.mjs); and the same with --network none for reference.
// strata's `run` hands the network teardown to a cleanup process and returns (as podman's conmon
// runs `podman container cleanup`); to measure the teardown too, every run is repeated with
// STRATA_CLEANUP=inline, where -v prints how long the set-up (netns, host-local, CNI bridge +
// loopback, the port rules' iptables-restore) and the teardown (CNI DEL, the port rules, netns)
// took: their median sum is the "network cost a container" figure. Targets (issue 16): strata
// ≤ 1.0× Docker's wall time; set-up plus teardown ≤ 250 ms. Not part of the test suite; needs
// root, runc, Docker. `run` hands the teardown to a cleanup process, so it is not in the plain
// run's wall time.
// With --json FILE, the results for tools/bench/table.mjs: per case, strata against each dockerd,
// and the set-up + teardown against its 250 ms bound.
//
//   node tools/build-cli.mjs && node tools/bench/container-run.mjs [--runs N] [--port P] [--json FILE]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER, REPO, STRATA, loadAverage, measure, median, option, resultRow, writeResults } from './lib.mjs';
import { startTestDockerd } from '../docker-with-iptables.mjs';

const runs = option('runs', 10);
const port = option('port', 18080);
const JSON_OUT = option('json', '');
const results = [];
const IMAGE = 'strata-bench/busybox-web:1';
const work = mkdtempSync(join(tmpdir(), 'strata-bench-crun-'));
const root = join(work, 'store');
let own;

function timed(cmd, args, env = process.env) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', env });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-1500)}`);
  return { ms, stderr: r.stderr };
}

try {
  const tar = join(work, 'busybox.tar');
  execFileSync('bash', [join(REPO, 'tools/make-busybox-rootfs.sh'), tar]);
  execFileSync(STRATA, ['--root', root, 'image', 'import', '--change', 'CMD ["sh"]', '--change', 'EXPOSE 80', tar, IMAGE], { stdio: 'ignore' });
  execFileSync(DOCKER, ['import', '--change', 'CMD ["sh"]', '--change', 'EXPOSE 80', tar, IMAGE], { stdio: 'ignore' });
  own = await startTestDockerd({ rootfsTar: tar, image: IMAGE });

  const strataRun = (net) => [STRATA, ['--root', root, '-v', 'container', 'run', '--rm', ...net, IMAGE, 'true']];
  const dockerRun = (net) => [DOCKER, ['run', '--rm', ...net, IMAGE, 'true']];
  const ownRun = (net) => [DOCKER, ['-H', own.host, 'run', '--rm', ...net, IMAGE, 'true']];
  const cases = [
    { name: `-p ${port}:80 (bridge)`, net: ['-p', `${port}:80`] },
    { name: '--network none', net: ['--network', 'none'] },
  ];
  const load0 = loadavg()[0];
  const loadAtStart = loadAverage();
  for (const c of cases) {
    // warm-up: caches, the strata0 bridge and its chains made once
    timed(...strataRun(c.net));
    timed(...dockerRun(c.net));
    timed(...ownRun(c.net));
    const st = [];
    const inline = [];
    const dk = [];
    const dki = [];
    const setup = [];
    const teardown = [];
    let rss = 0;
    for (let i = 0; i < runs; i++) {
      st.push(timed(...strataRun(c.net)).ms);
      const s = timed(...strataRun(c.net), { ...process.env, STRATA_CLEANUP: 'inline' });
      inline.push(s.ms);
      const m = /network: set up in (\d+) ms, torn down in (\d+) ms/.exec(s.stderr);
      if (m) {
        setup.push(Number(m[1]));
        teardown.push(Number(m[2]));
      }
      dk.push(timed(...dockerRun(c.net)).ms);
      dki.push(timed(...ownRun(c.net)).ms);
    }
    rss = measure(strataRun(c.net)[0], strataRun(c.net)[1]).rssMB;
    const ms = (x) => `${x.toFixed(0)} ms`;
    console.log(`\n${c.name}, ${runs} runs each, alternating`);
    console.log(`  strata container run --rm: median ${ms(median(st))} (peak RSS ${rss.toFixed(0)} MB); with the teardown inline ${ms(median(inline))}`);
    console.log(`  docker run --rm:           median ${ms(median(dk))} (the shared dockerd, --iptables=false)`);
    console.log(`  docker run --rm:           median ${ms(median(dki))} (a dockerd with Docker's default networking)`);
    console.log(`  ratio strata/docker: ${(median(st) / median(dk)).toFixed(2)} · ${(median(st) / median(dki)).toFixed(2)} (target ≤ 1.00)`);
    if (setup.length) {
      const both = setup.map((v, i) => v + teardown[i]);
      console.log(`  strata network: set-up median ${ms(median(setup))}, teardown median ${ms(median(teardown))}, together ${ms(median(both))} (target ≤ 250 ms)`);
    }
    const extra = { rssMb: Math.round(rss), inlineMs: Math.round(median(inline)), note: `with the teardown inline (STRATA_CLEANUP=inline) ${ms(median(inline))}` };
    results.push(resultRow(`container run --rm ${c.name} IMAGE true`, median(st), 'docker run --rm (shared dockerd, --iptables=false)', median(dk), 1, extra));
    results.push(resultRow(`container run --rm ${c.name} IMAGE true`, median(st), "docker run --rm (dockerd with Docker's default networking)", median(dki), 1, extra));
    if (setup.length) {
      const both = setup.map((v, i) => v + teardown[i]);
      results.push(resultRow(`network set-up + teardown, ${c.name}`, median(both), 'bound 250 ms', 250, 1, { setupMs: median(setup), teardownMs: median(teardown), note: `set-up ${ms(median(setup))}, teardown ${ms(median(teardown))} (STRATA_CLEANUP=inline, strata -v)` }));
    }
  }
  writeResults(JSON_OUT, { bench: 'container-run', runs, port, load: { start: loadAtStart, end: loadAverage() }, results });
  console.log(`\nload average (1 min) at start ${load0.toFixed(2)}, at end ${loadavg()[0].toFixed(2)}; ${process.env.STRATA_BENCH_NOTE ?? ''}`);
  console.log('note: the strata0 bridge and its chains stay after the benchmark, as docker0 does.');
} finally {
  await own?.stop();
  spawnSync(STRATA, ['--root', root, 'container', 'prune'], { stdio: 'ignore' });
  spawnSync(DOCKER, ['rmi', '-f', IMAGE], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}
