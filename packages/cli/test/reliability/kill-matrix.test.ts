// The kill -9 matrix (issue 18, item 2): every command that writes is run once to list its
// checkpoints, then SIGKILLed at checkpoints spread over its run and at random times (seeded).
// After each kill: the next strata command succeeds and `store check` is clean; no mount, network
// namespace, veth or netfilter rule of the store's containers is left; no blob is corrupt; the
// images the store held before are intact; and a rerun of the command gives the result an
// uninterrupted run gives (same image ID, digest, output). CI runs a few kills per command;
// STRATA_RELIABILITY=full runs ≥ 20 per command and, with STRATA_RELIABILITY_OUT, writes kill.json.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, freePort, isRoot, peerAvailable, requireOrSkip, runStrata, startRegistry, tempDir, type RegistryServer } from '@strata/testing';
import { containerIds, corruptBlobs, FULL, hostResidue, prng, RESULTS_DIR, runKillable, SEED, STABLE_ENV, storeState, unmountUnder, vethsOf, type ImageState, type KillAt, type Outcome } from './harness';
import { APP, BASE, buildApp, filesDir, importBase, noise, strataOk, tarOf } from './fixtures';

const canRun = isRoot() && peerAvailable('runc');
const canNet = canRun && requireOrSkip(existsSync('/usr/lib/cni/bridge') || existsSync('/opt/cni/bin/bridge'), 'CNI plugins (bridge, portmap)');
const canRegistry = peerAvailable('docker-registry');

/**
 * Kills per command. Full: up to 16 checkpoints spread over those listed, then random times up to
 * 20 kills (at least 4). CI: one checkpoint picked by the seed, and a random time for every fourth
 * command (cheap ones), so the whole file stays near two minutes.
 */
const plan = (n: number) => (FULL ? { points: 16, minTotal: 20, times: 4 } : { points: 1, minTotal: 0, times: n % 4 === 1 ? 1 : 0 });

interface Subject {
  name: string;
  enabled: boolean;
  /** The store each run starts from (a copy of it). */
  template: () => Promise<string>;
  /** Per run, on the fresh copy: what the command needs that cannot be copied (a running container). */
  before?: (root: string, run: string) => Promise<void>;
  args: (run: string) => string[];
  /** The command's result: an uninterrupted run's and a rerun's after a kill must be equal. */
  result: (root: string, out: Outcome, run: string) => Promise<string> | string;
  /** Images of the starting store the command removes or untags on purpose. */
  mayChange?: (img: ImageState) => boolean;
  /** How a rerun may refuse when the killed run had already done the work (the result must still match). */
  done?: RegExp;
  /** Containers involved: the next command is one that recovers them. */
  containers?: boolean;
  /** More places that must hold no corrupt blob (an OCI layout written to). */
  layouts?: (run: string) => string[];
}

interface Row {
  case: string;
  ran: number;
  failed: number;
  note: string;
}

const work = tempDir('strata-kill-');
const scratch = join(work, 'scratch');
const rows: Row[] = [];
const details: Record<string, unknown> = {};
let registry: RegistryServer | undefined;
let webPort = 0;

afterAll(async () => {
  await registry?.stop();
  if (RESULTS_DIR && FULL) {
    mkdirSync(RESULTS_DIR, { recursive: true });
    const doc = {
      area: 'kill -9',
      command: 'STRATA_RELIABILITY=full npx vitest run packages/cli/test/reliability/kill-matrix.test.ts',
      seed: SEED,
      rows,
      method: 'Each command runs once to list its checkpoints, then is SIGKILLed at checkpoints spread over them and at random times (seeded); after each kill the next command, `store check`, host residue, blob hashes, the images held before and a rerun are checked.',
      details,
    };
    writeFileSync(join(RESULTS_DIR, 'kill.json'), `${JSON.stringify(doc, null, 2)}\n`);
  }
  unmountUnder(work);
  cleanupTempDirs();
}, 120_000);

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
const once = <T>(f: () => Promise<T>): (() => Promise<T>) => {
  let p: Promise<T> | undefined;
  return () => (p ??= f());
};

// ---- the starting stores (templates), made once -------------------------------------------------

const tpl = (name: string) => join(work, 'templates', name);
const derive = async (from: string, name: string): Promise<string> => {
  mkdirSync(join(work, 'templates'), { recursive: true });
  sh('cp', ['-a', from, tpl(name)]);
  return tpl(name);
};

const baseStore = once(async () => {
  await importBase(tpl('base'));
  return tpl('base');
});
const appStore = once(async () => {
  const root = await derive(await baseStore(), 'app');
  await buildApp(root, join(work, 'inputs'), { layers: 3, files: 4, size: 256 << 10 });
  return root;
});
/** APP and a dangling image (a tag built twice), for `image prune`. */
const pruneStore = once(async () => {
  const root = await derive(await appStore(), 'prune');
  for (const v of ['one', 'two']) {
    const ctx = join(work, 'inputs', `prune-${v}`);
    filesDir(ctx, 3, 128 << 10, v === 'one' ? 7 : 8);
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${BASE}\nCOPY . /p\nLABEL v=${v}\n`);
    await strataOk(root, ['build', '-q', '-t', 'rel/pruned:1', ctx]);
  }
  return root;
});
/** APP and blobs nothing names (what a load killed before its index write leaves), for `store gc`. */
const gcStore = once(async () => {
  const root = await derive(await appStore(), 'gc');
  for (let i = 0; i < 12; i++) {
    const b = noise(192 << 10, 500 + i);
    writeFileSync(join(root, 'blobs', 'sha256', createHash('sha256').update(b).digest('hex')), b);
  }
  return root;
});
/** A stopped container with changes in its writable layer, for `container commit`. */
const commitStore = once(async () => {
  const root = await derive(await baseStore(), 'commit');
  await strataOk(root, ['container', 'run', '--network', 'none', '--name', 'c1', BASE, 'sh', '-c', 'mkdir -p /data && head -c 3000000 /bin/busybox > /data/big && echo changed > /etc/motd && rm /bin/vi']);
  return root;
});

const archive = once(async () => {
  const file = join(work, 'inputs', 'app.tar');
  await strataOk(await appStore(), ['image', 'save', '-o', file, APP]);
  return file;
});
const filesTar = once(async () => tarOf(filesDir(join(work, 'inputs', 'files'), 6, 384 << 10, 11), join(work, 'inputs', 'files.tar')));
const copyContext = once(async () => {
  const ctx = join(work, 'inputs', 'copy-ctx');
  for (let l = 0; l < 4; l++) filesDir(join(ctx, `d${l}`), 3, 256 << 10, 20 + l);
  writeFileSync(join(ctx, 'Dockerfile'), `FROM ${BASE}\n${[0, 1, 2, 3].map((l) => `COPY d${l} /d${l}`).join('\n')}\nCMD ["sh"]\n`);
  return ctx;
});
const runContext = once(async () => {
  const ctx = join(work, 'inputs', 'run-ctx');
  filesDir(join(ctx, 'in'), 2, 256 << 10, 30);
  writeFileSync(
    join(ctx, 'Dockerfile'),
    `FROM ${BASE}\nRUN mkdir /out && head -c 1000000 /bin/busybox > /out/a && echo one > /out/b\nCOPY in /in\nRUN cat /in/f0 /in/f1 > /out/c && rm /out/b\nRUN echo three > /out/d\n`,
  );
  return ctx;
});
const pushed = once(async () => {
  const ref = `${registry!.host}/rel/app:1`;
  await strataOk(await appStore(), ['image', 'push', APP, ref]);
  return ref;
});

// ---- results ------------------------------------------------------------------------------------

const images = (root: string) =>
  storeState(root)
    .images.map((i) => `${i.id} ${i.manifest} ${i.tags.join(',')}`)
    .join('\n');

/** The digest a registry serves for a manifest (loopback, plain http). */
function remoteDigest(host: string, repo: string, tag: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port: Number(host.split(':')[1]), path: `/v2/${repo}/manifests/${tag}`, method: 'HEAD', timeout: 5000, headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } },
      (res) => {
        res.resume();
        resolve(`${res.statusCode} ${res.headers['docker-content-digest'] ?? ''}`);
      },
    );
    req.on('error', (e) => resolve(`error ${e.message}`));
    req.end();
  });
}

function ociIndex(dir: string): string {
  const p = join(dir, 'index.json');
  if (!existsSync(p)) return 'no index.json';
  const idx = JSON.parse(readFileSync(p, 'utf8')) as { manifests: Array<{ digest: string; annotations?: Record<string, string> }> };
  const missing = idx.manifests.filter((m) => !existsSync(join(dir, 'blobs', 'sha256', m.digest.slice(7))));
  return `${idx.manifests.map((m) => `${m.digest} ${m.annotations?.['org.opencontainers.image.ref.name'] ?? ''}`).join('\n')}${missing.length ? ' (manifest missing)' : ''}`;
}

const containers = (root: string) =>
  storeState(root)
    .containers.map((c) => `${c.name} ${c.state}`)
    .join('\n');

// ---- the commands -------------------------------------------------------------------------------

const subjects: Subject[] = [
  { name: 'image load', enabled: true, template: baseStore, args: () => ['image', 'load', '-q', '-i', join(work, 'inputs', 'app.tar')], result: images },
  { name: 'image import', enabled: true, template: baseStore, args: () => ['image', 'import', '--change', 'CMD ["sh"]', join(work, 'inputs', 'files.tar'), 'rel/imported:1'], result: images },
  { name: 'image rm', enabled: true, template: appStore, args: () => ['image', 'rm', APP], result: images, mayChange: (i) => i.tags.includes(`docker.io/${APP}`), done: /no such image/i },
  { name: 'image tag', enabled: true, template: appStore, args: () => ['image', 'tag', APP, 'rel/app:tagged'], result: images },
  { name: 'image prune', enabled: true, template: pruneStore, args: () => ['image', 'prune', '-f'], result: images, mayChange: (i) => i.tags.length === 0 },
  { name: 'build (COPY)', enabled: true, template: baseStore, args: () => ['build', '-q', '-t', 'rel/copied:1', join(work, 'inputs', 'copy-ctx')], result: images },
  { name: 'build (RUN)', enabled: canRun, containers: true, template: baseStore, args: () => ['build', '-q', '-t', 'rel/ran:1', join(work, 'inputs', 'run-ctx')], result: images },
  { name: 'image pull', enabled: canRegistry, template: baseStore, args: () => ['image', 'pull', '-q', `${registry!.host}/rel/app:1`], result: images },
  {
    name: 'image push',
    enabled: canRegistry,
    template: appStore,
    args: (run) => ['image', 'push', APP, `${registry!.host}/kill/push-${run}:1`],
    result: (_root, _out, run) => remoteDigest(registry!.host, `kill/push-${run}`, '1'),
  },
  {
    name: 'image copy to oci:',
    enabled: true,
    template: appStore,
    args: (run) => ['image', 'copy', APP, `oci:${join(work, 'oci', run)}:app`],
    result: (_root, _out, run) => ociIndex(join(work, 'oci', run)),
    layouts: (run) => [join(work, 'oci', run)],
  },
  {
    name: 'container run (bridge, -p)',
    enabled: canNet,
    containers: true,
    template: baseStore,
    args: () => ['container', 'run', '-p', `127.0.0.1:${webPort}:80`, BASE, 'sh', '-c', 'echo hi > /f && cat /f && ls /sys/class/net'],
    result: (_root, out) => `${out.code} ${out.stdout}`,
  },
  {
    name: 'container commit',
    enabled: canRun,
    containers: true,
    template: commitStore,
    args: () => ['container', 'commit', 'c1', 'rel/committed:1'],
    result: images,
  },
  {
    name: 'container rm -f (running, bridge, -p)',
    enabled: canNet,
    containers: true,
    template: baseStore,
    before: async (root) => {
      await strataOk(root, ['container', 'run', '-d', '--name', 'web', '-p', `127.0.0.1:${webPort}:80`, BASE, 'sleep', '600']);
    },
    args: () => ['container', 'rm', '-f', 'web'],
    result: containers,
    done: /no such container/i,
  },
  {
    name: 'volume import',
    enabled: true,
    template: baseStore,
    args: () => ['volume', 'import', 'vol1', join(work, 'inputs', 'files.tar')],
    result: (root) => JSON.stringify(storeState(root).volumes),
    done: /volume is not empty/,
  },
  { name: 'store gc', enabled: true, template: gcStore, args: () => ['store', 'gc'], result: (root) => `${images(root)}\n${storeState(root).blobs.join('\n')}` },
];

// ---- one kill -----------------------------------------------------------------------------------

interface Kill {
  at: string;
  killed: boolean;
  failures: string[];
}

/** The uninterrupted run: its checkpoints, how long it took, and its result. */
async function reference(s: Subject): Promise<{ points: string[]; ms: number; result: string }> {
  const root = join(work, 'runs', key(s), 'ref');
  sh('cp', ['-a', await s.template(), root]);
  await s.before?.(root, 'ref');
  const out = await runKillable(root, s.args('ref'), { scratch });
  if (out.code !== 0) throw new Error(`${s.name}: ${out.stderr}`);
  const result = await s.result(root, out, 'ref');
  await tidy(s, root);
  return { points: out.points, ms: out.elapsedMs, result };
}

const key = (s: Subject) => s.name.replace(/[^a-z0-9]+/gi, '-');

/** After a run: its containers removed (nothing of them left running), the copy deleted. */
async function tidy(s: Subject, root: string): Promise<void> {
  if (s.containers) {
    const ids = (await runStrata(['container', 'ls', '-a', '-q', '--no-trunc'], { root })).out.split('\n').filter(Boolean);
    if (ids.length) await runStrata(['container', 'rm', '-f', ...ids], { root });
  }
  unmountUnder(root);
  rmSync(root, { recursive: true, force: true });
}

async function killOnce(s: Subject, at: KillAt, run: string, want: string): Promise<Kill> {
  const label = at.point ?? `${at.afterMs}ms`;
  const failures: string[] = [];
  const fail = (what: string) => failures.push(`${label}: ${what}`);
  const root = join(work, 'runs', key(s), run);
  sh('cp', ['-a', await s.template(), root]);
  await s.before?.(root, run);
  const before = storeState(root);
  const out = await runKillable(root, s.args(run), { kill: at, scratch, timeoutMs: 120_000 });
  if (out.hung) fail('hung');
  if (!out.killed && out.code !== 0) fail(`exited ${out.code} before the kill: ${out.stderr.trim()}`);
  if (at.point && !out.killed) fail(`never reached ${at.point}`);

  const ids = new Set(containerIds(root));
  const veths = [...ids].map((id) => [id, vethsOf([id])] as const);
  for (const b of corruptBlobs(root)) fail(`corrupt blob after the kill: ${b}`);

  // the next command (one that recovers crashed containers where there are any), then store check
  const next = await runStrata(s.containers ? ['container', 'ls', '-q', '--no-trunc'] : ['image', 'ls', '-q'], { root, env: STABLE_ENV });
  if (next.code !== 0) fail(`next command exited ${next.code}: ${next.stderr.trim()}`);
  const running = new Set(next.out.split('\n').filter(Boolean));
  const check = await runStrata(['store', 'check'], { root, env: STABLE_ENV });
  if (check.code !== 0 || !/: ok\n$/.test(check.stderr)) fail(`store check: ${check.code} ${check.stderr.trim()} ${check.out.trim()}`);
  for (const id of containerIds(root)) ids.add(id);
  const settled = [...ids].filter((id) => !running.has(id));
  for (const r of hostResidue(root, settled)) fail(`left after the next command: ${r}`);
  for (const [id, vs] of veths) for (const v of vs) if (!running.has(id) && existsSync(join('/sys/class/net', v))) fail(`left after the next command: veth ${v} of ${id}`);

  // the images held before: all there (the same manifest, config and layers), tags kept
  let after: ReturnType<typeof storeState> | undefined;
  try {
    after = storeState(root);
  } catch (e) {
    fail(`store unreadable: ${(e as Error).message}`);
  }
  for (const img of before.images) {
    if (s.mayChange?.(img)) continue;
    const now = after?.images.find((i) => i.manifest === img.manifest);
    if (!now) fail(`lost image ${img.id} (${img.tags.join(', ')})`);
    else if (now.id !== img.id || JSON.stringify(now.diffIds) !== JSON.stringify(img.diffIds) || img.tags.some((t) => !now.tags.includes(t))) fail(`image ${img.id} changed`);
  }
  for (const l of s.layouts?.(run) ?? []) for (const b of corruptBlobs(l)) fail(`corrupt blob in ${l}: ${b}`);

  // the rerun: succeeds (or says the work is done) and gives the uninterrupted run's result
  const again = await runKillable(root, s.args(run), { scratch });
  if (again.code !== 0 && !(s.done && s.done.test(again.stderr))) fail(`rerun exited ${again.code}: ${again.stderr.trim()}`);
  const got = await s.result(root, again, run);
  if (got !== want) fail(`rerun gave ${JSON.stringify(got)}, not ${JSON.stringify(want)}`);
  for (const b of corruptBlobs(root)) fail(`corrupt blob after the rerun: ${b}`);
  for (const id of containerIds(root)) ids.add(id);
  await tidy(s, root);
  for (const r of hostResidue(root, ids)) fail(`left after rerun and rm: ${r}`);
  return { at: label, killed: out.killed, failures };
}

/** `k` of `list`, evenly spread (first and last included). */
function spread<T>(list: T[], k: number): T[] {
  if (list.length <= k) return [...list];
  if (k === 1) return [list[Math.floor(list.length / 2)]];
  return [...new Set(Array.from({ length: k }, (_, i) => list[Math.round((i * (list.length - 1)) / (k - 1))]))];
}

// ---- the matrix ---------------------------------------------------------------------------------

describe('kill -9 matrix', () => {
  beforeAll(async () => {
    console.log(`kill matrix: ${FULL ? 'full' : 'CI subset'}, seed ${SEED} (STRATA_RELIABILITY_SEED=${SEED} replays it)`);
    mkdirSync(join(work, 'inputs'), { recursive: true });
    webPort = await freePort();
    if (canRegistry) {
      registry = await startRegistry('plain', join(work, 'registry'));
      await pushed();
    }
    await Promise.all([archive(), filesTar(), copyContext(), runContext()]);
  }, 300_000);

  for (const [n, s] of subjects.entries()) {
    it.skipIf(!s.enabled)(`${s.name}: killed anywhere, the store stays consistent and a rerun gives the same result`, async () => {
      mkdirSync(join(work, 'runs', key(s)), { recursive: true });
      const ref = await reference(s);
      const rnd = prng(SEED * 100 + n);
      const p = plan(n);
      const points = FULL ? spread(ref.points, p.points) : [ref.points[Math.floor(rnd() * ref.points.length)]].filter(Boolean);
      const nTimes = Math.max(p.times, p.minTotal - points.length);
      // Random times over the run, past the first fifth (where the bundle is still loading).
      const times = Array.from({ length: nTimes }, () => Math.round(ref.ms * (0.2 + 0.8 * rnd())));
      const schedule: KillAt[] = [...points.map((point) => ({ point })), ...times.map((afterMs) => ({ afterMs }))];
      const kills: Kill[] = [];
      for (const [i, at] of schedule.entries()) kills.push(await killOnce(s, at, `k${i}`, ref.result));
      const failed = kills.filter((k) => k.failures.length);
      const killed = kills.filter((k) => k.killed).length;
      const distinct = new Set(ref.points.map((p) => p.replace(/#\d+$/, ''))).size;
      rows.push({ case: s.name, ran: kills.length, failed: failed.length, note: `checkpoints passed: ${ref.points.length} (${distinct} distinct): ${points.length} tried + ${times.length} random times; ${killed} killed, ${kills.length - killed} finished first` });
      details[s.name] = { listed: ref.points, ms: ref.ms, kills: kills.map((k) => ({ at: k.at, killed: k.killed, failures: k.failures })) };
      expect(failed.flatMap((k) => k.failures)).toEqual([]);
    }, 1_800_000);
  }
});

describe('kill -9 matrix: regressions', () => {
  // Found by the matrix: `image import` took its creation time from the wall clock, not the CLI's
  // (STRATA_NOW), so a rerun after a kill could not give the same image ID.
  it('image import takes its time from the CLI clock: two imports give one image ID', async () => {
    const tar = await filesTar();
    const ids: string[] = [];
    for (const r of ['imp-a', 'imp-b']) ids.push((await strataOk(join(work, r), ['image', 'import', tar, 'rel/imported:1'])).out.trim());
    expect(ids[0]).toMatch(/^sha256:/);
    expect(ids[1]).toBe(ids[0]);
    const config = JSON.parse(readFileSync(join(work, 'imp-a', 'blobs', 'sha256', ids[0].slice(7)), 'utf8')) as { created: string };
    expect(config.created).toBe(new Date(STABLE_ENV.STRATA_NOW).toISOString());
  });
});
