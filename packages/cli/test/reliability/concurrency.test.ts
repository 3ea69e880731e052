// Issue 18, item 4: 8 workers, each a sequence of `strata` processes, mix build, pull, load, tag,
// rm, prune and gc on one store for a while (30 s in CI, 2 minutes with STRATA_RELIABILITY=full).
// Each worker owns its tags (`w<i>/…`, `REGISTRY/rel/pull:w<i>-…`) and tracks what they name;
// only it changes them. Shared tags (`rel/shared:N`) are tagged and removed by everyone. The
// images loaded and pulled are also built (deterministic builds), all share layers, so workers
// write the same blobs at once, and prune and gc run amid all of it.
// Afterwards: every blob hashes to its name, every owned tag names what its worker last gave it
// (and no other owned tag exists), `store check` is clean; during the run no process hung, none
// said EEXIST / "file exists", and every failure is one of ALLOWED_FAILURES.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, startRegistry, tempDir, type RegistryServer } from '@strata/testing';
import { BASE, filesDir, importBase, strataOk } from './fixtures';
import { corruptBlobs, FULL, prng, runKillable, SEED, storeState, writeResult } from './harness';

const WORKERS = 8;
const DURATION_MS = FULL ? 120_000 : 30_000;
/** A strata process that has not ended after this long is a hang (deadlock). */
const OP_TIMEOUT_MS = 90_000;
/** Images workers build (contexts); the first IMAGES of them are also loaded and pulled. */
const VARIANTS = 4;
const IMAGES = 2;

/** The failures a concurrent store may give, each with why: `<kind> <CODE>`. Anything else fails the test. */
const ALLOWED_FAILURES: Record<string, string> = {
  'shared-rm IMAGE_NOT_FOUND': 'another worker removed the shared tag first',
};

/** `inspect` is the check while it runs: a worker's own tag must name what it last gave it, at any moment. */
type Kind = 'build' | 'pull' | 'load' | 'tag' | 'rm' | 'prune' | 'gc' | 'shared-tag' | 'shared-rm' | 'inspect';
const WEIGHTS: Array<[Kind, number]> = [
  ['build', 2], ['pull', 2], ['load', 2], ['tag', 3], ['rm', 3], ['prune', 1], ['gc', 1], ['shared-tag', 1], ['shared-rm', 1], ['inspect', 1],
];

let work: string;
let root: string;
let registry: RegistryServer | undefined;
/** The images loaded and pulled: config digest of variant k. */
const variantIds: string[] = [];
const contexts: string[] = [];
/** Per worker: a docker-archive of the IMAGES images tagged w<i>/load<k>:1. */
const archives: string[] = [];

interface Record_ {
  worker: number;
  kind: Kind;
  args: string[];
  code: number | null;
  error?: string;
  ms: number;
  hung: boolean;
  stderr: string;
}

const normal = (t: string) => (/^[^/]+[.:][^/]*\//.test(t) || t.startsWith('localhost/') ? t : `docker.io/${t}`);

function percentiles(xs: number[]): { count: number; p50: number; p99: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : 0);
  return { count: s.length, p50: at(50), p99: at(99), max: s.length ? s[s.length - 1] : 0 };
}

/** A docker-archive's manifest.json rewritten so its images carry other tags. */
function retagArchive(src: string, out: string, tags: (k: number) => string, scratch: string): void {
  mkdirSync(scratch, { recursive: true });
  execFileSync('tar', ['-C', scratch, '-xf', src]);
  const manifest = JSON.parse(readFileSync(join(scratch, 'manifest.json'), 'utf8')) as Array<{ RepoTags: string[] }>;
  manifest.forEach((m, k) => (m.RepoTags = [tags(k)]));
  writeFileSync(join(scratch, 'manifest.json'), JSON.stringify(manifest));
  execFileSync('tar', ['--sort=name', '-C', scratch, '-cf', out, ...readdirSync(scratch)]);
}

/** Copy a manifest to another tag of the same repository (the registry has its blobs already). */
async function copyTag(host: string, repo: string, from: string, to: string): Promise<void> {
  const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';
  const got = await fetch(`http://${host}/v2/${repo}/manifests/${from}`, { headers: { accept } });
  if (!got.ok) throw new Error(`GET manifest ${from}: ${got.status}`);
  const body = Buffer.from(await got.arrayBuffer());
  const put = await fetch(`http://${host}/v2/${repo}/manifests/${to}`, { method: 'PUT', headers: { 'content-type': got.headers.get('content-type')! }, body });
  if (put.status !== 201) throw new Error(`PUT manifest ${to}: ${put.status} ${await put.text()}`);
}

describe('8 processes mixing build, pull, load, tag, rm, prune and gc on one store', () => {
  beforeAll(async () => {
    work = tempDir();
    root = join(work, 'store');
    await importBase(root);
    // The images, built in a store of their own: a shared layer, one of their own, a RUN in odd ones.
    const staging = join(work, 'staging');
    execFileSync('cp', ['-a', root, staging]);
    filesDir(join(work, 'shared'), 8, 32 << 10, 90);
    for (let k = 0; k < VARIANTS; k++) {
      const ctx = join(work, `ctx${k}`);
      mkdirSync(ctx, { recursive: true });
      execFileSync('cp', ['-a', join(work, 'shared'), join(ctx, 'shared')]);
      filesDir(join(ctx, 'own'), 4, 48 << 10, 91 + k);
      writeFileSync(join(ctx, 'Dockerfile'), `FROM ${BASE}\nCOPY shared /shared\nCOPY own /own\n${k % 2 ? `RUN echo ${k} > /variant\n` : ''}`);
      contexts.push(ctx);
      if (k < IMAGES) variantIds.push((await strataOk(staging, ['build', '-q', '-t', `rel/load${k}:1`, ctx])).out.trim());
    }
    const all = join(work, 'all.tar');
    await strataOk(staging, ['image', 'save', '-o', all, ...variantIds.map((_, k) => `rel/load${k}:1`)]);
    for (let i = 0; i < WORKERS; i++) {
      archives.push(join(work, `w${i}.tar`));
      retagArchive(all, archives[i], (k) => `w${i}/load${k}:1`, join(work, `archive-w${i}`));
    }
    registry = await startRegistry('plain', join(work, 'registry'));
    for (let k = 0; k < IMAGES; k++) {
      await strataOk(staging, ['push', `rel/load${k}:1`, `${registry.host}/rel/pull:k${k}`]);
      for (let i = 0; i < WORKERS; i++) await copyTag(registry.host, 'rel/pull', `k${k}`, `w${i}-${k}`);
    }
  });

  afterAll(async () => {
    await registry?.stop();
    cleanupTempDirs();
  });

  it('lose and corrupt nothing, hang nowhere, and fail only as allowed', async () => {
    const stats = join(work, 'lock-stats.jsonl');
    const env = { STRATA_LOCK_STATS: stats };
    const records: Record_[] = [];
    const owned: Array<Map<string, string>> = Array.from({ length: WORKERS }, () => new Map());
    const buildIds = new Map<number, Set<string>>();
    const lostMeanwhile: string[] = [];
    const deadline = Date.now() + DURATION_MS;
    const host = registry!.host;

    async function worker(i: number): Promise<void> {
      const rand = prng(SEED * 31 + i);
      const mine = owned[i];
      const total = WEIGHTS.reduce((n, [, w]) => n + w, 0);
      const int = (n: number) => Math.floor(rand() * n);
      const anyOwned = () => [...mine.keys()].sort()[int(mine.size)];
      for (let n = 0; n < 10_000 && Date.now() < deadline; n++) {
        let x = rand() * total;
        // Every worker starts with a load (all at once, the same blobs); its next two operations
        // are set so that each kind runs at least once however short the run.
        let kind = n === 0 ? 'load' : n <= 2 ? WEIGHTS[(2 * i + n - 1) % WEIGHTS.length][0] : WEIGHTS.find(([, w]) => (x -= w) < 0)![0];
        if ((kind === 'tag' || kind === 'rm' || kind === 'shared-tag' || kind === 'inspect') && mine.size === 0) kind = 'load';
        let args: string[];
        let onOk: (out: string) => void = () => undefined;
        const k = int(VARIANTS);
        switch (kind) {
          case 'build': {
            const tag = `w${i}/build${k % 2}:1`;
            args = ['build', '-q', ...(rand() < 0.25 ? ['--no-cache'] : []), '-t', tag, contexts[k]];
            onOk = (out) => {
              mine.set(normal(tag), out.trim());
              if (!buildIds.has(k)) buildIds.set(k, new Set());
              buildIds.get(k)!.add(out.trim());
            };
            break;
          }
          case 'pull': {
            const k = int(IMAGES);
            const ref = `${host}/rel/pull:w${i}-${k}`;
            args = ['pull', '-q', ref];
            onOk = () => mine.set(ref, variantIds[k]);
            break;
          }
          case 'load':
            args = ['image', 'load', '-q', '-i', archives[i]];
            onOk = () => variantIds.forEach((id, v) => mine.set(normal(`w${i}/load${v}:1`), id));
            break;
          case 'tag': {
            const src = anyOwned();
            const dst = `w${i}/t${k}:1`;
            args = ['image', 'tag', src, dst];
            onOk = () => mine.set(normal(dst), mine.get(src)!);
            break;
          }
          case 'rm': {
            const t = anyOwned();
            args = ['image', 'rm', t];
            onOk = () => mine.delete(t);
            break;
          }
          case 'inspect': {
            const t = anyOwned();
            args = ['image', 'inspect', t];
            onOk = (out) => {
              const id = (JSON.parse(out) as Array<{ Id: string }>)[0]?.Id;
              if (id !== mine.get(t)) lostMeanwhile.push(`w${i}: ${t} was ${id}, expected ${mine.get(t)}`);
            };
            break;
          }
          case 'shared-tag':
            args = ['image', 'tag', anyOwned(), `rel/shared:${k}`];
            break;
          case 'shared-rm':
            args = ['image', 'rm', `rel/shared:${k}`];
            break;
          case 'prune':
            args = ['image', 'prune', '-f'];
            break;
          case 'gc':
            args = ['store', 'gc'];
            break;
        }
        const r = await runKillable(root, ['--format', 'json', ...args], { env, timeoutMs: OP_TIMEOUT_MS, scratch: join(work, 'scratch') });
        let error: string | undefined;
        if (r.code !== 0) {
          const last = r.stderr.trim().split('\n').pop() ?? '';
          try {
            error = (JSON.parse(last) as { error: { code: string } }).error.code;
          } catch {
            error = r.hung ? 'HUNG' : r.signal ? `SIGNAL ${r.signal}` : `exit ${r.code}`;
          }
        } else onOk(r.stdout);
        records.push({ worker: i, kind, args, code: r.code, error, ms: r.elapsedMs, hung: r.hung, stderr: r.stderr });
      }
    }

    await Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(i)));

    // What went wrong, as data first: the figures are written whatever the verdict.
    const failures = records.filter((r) => r.code !== 0);
    const unexpected = failures.filter((r) => !ALLOWED_FAILURES[`${r.kind} ${r.error}`]);
    const eexist = records.filter((r) => /EEXIST|file exists/i.test(r.stderr));
    const hung = records.filter((r) => r.hung);
    const corrupt = corruptBlobs(root);
    const state = storeState(root);
    const actual = new Map<string, string>();
    for (const img of state.images) for (const t of img.tags) actual.set(t, img.id);
    const lost: string[] = [];
    for (const [i, mine] of owned.entries()) {
      for (const [tag, id] of mine) if (actual.get(tag) !== id) lost.push(`w${i}: ${tag} is ${actual.get(tag) ?? 'gone'}, expected ${id}`);
    }
    const ownedTags = new Set(owned.flatMap((m) => [...m.keys()]));
    const stray = [...actual.keys()].filter((t) => !ownedTags.has(t) && !t.includes('/rel/shared:') && t !== normal(BASE));
    const check = await strataOk(root, ['store', 'check']).then(() => '', (e: Error) => e.message);
    const nondeterministic = [...buildIds].filter(([, ids]) => ids.size > 1).map(([k, ids]) => `variant ${k}: ${[...ids].join(' ')}`);

    const lines = existsSync(stats) ? readFileSync(stats, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { op: string; waitMs: number; holdMs: number }) : [];
    const byOp: Record<string, { count: number; p50: number; p99: number; max: number }> = {};
    for (const op of [...new Set(lines.map((l) => l.op))].sort()) byOp[op] = percentiles(lines.filter((l) => l.op === op).map((l) => l.holdMs));
    const count = (xs: Record_[], key: (r: Record_) => string) => xs.reduce<Record<string, number>>((m, r) => ((m[key(r)] = (m[key(r)] ?? 0) + 1), m), {});
    const operations = count(records, (r) => r.kind);
    const errors = count(failures, (r) => `${r.kind} ${r.error}`);
    const opMs = percentiles(records.map((r) => r.ms));
    const hold = percentiles(lines.map((l) => l.holdMs));
    const wait = percentiles(lines.map((l) => l.waitMs));
    const rows = [
      {
        case: 'operations (each a strata process)',
        ran: records.length,
        failed: unexpected.length,
        note: `${WORKERS} workers for ${DURATION_MS / 1000} s: ${Object.entries(operations).sort().map(([k, n]) => `${k} ${n}`).join(', ')}; failures allowed: ${Object.keys(ALLOWED_FAILURES).join(', ')} (${Object.entries(errors).map(([k, n]) => `${k} ${n}`).join(', ') || 'none seen'})`,
      },
      { case: 'owned tags kept (at the end)', ran: [...owned].reduce((n, m) => n + m.size, 0), failed: lost.length + stray.length },
      { case: 'owned tags inspected while others ran', ran: operations.inspect ?? 0, failed: lostMeanwhile.length },
      { case: 'blobs re-hashed (at the end)', ran: state.blobs.length, failed: corrupt.length },
      { case: 'processes that hung (deadlock)', ran: records.length, failed: hung.length, note: `a process is hung after ${OP_TIMEOUT_MS / 1000} s; the slowest took ${(opMs.max / 1000).toFixed(1)} s` },
      { case: 'EEXIST / "file exists" errors', ran: records.length, failed: eexist.length },
      { case: 'store check (at the end)', ran: 1, failed: check ? 1 : 0 },
      {
        case: 'store lock: hold and wait times',
        ran: lines.length,
        failed: 0,
        note: `held p50 ${hold.p50} ms, p99 ${hold.p99} ms, max ${hold.max} ms; waited p50 ${wait.p50} ms, p99 ${wait.p99} ms, max ${wait.max} ms (STRATA_LOCK_STATS; every lock taken in the run)`,
      },
    ];
    writeResult('concurrency', 'area', 'concurrency');
    writeResult('concurrency', 'command', `STRATA_RELIABILITY=full STRATA_RELIABILITY_SEED=${SEED} npx vitest run packages/cli/test/reliability/concurrency.test.ts`);
    writeResult('concurrency', 'seed', SEED);
    writeResult('concurrency', 'rows', rows);
    writeResult('concurrency', 'method', `${WORKERS} workers, each a sequence of strata processes chosen by a seeded PRNG, on one store for ${DURATION_MS / 1000} s: build (COPY, RUN, some --no-cache), pull from a loopback registry, load of a docker-archive, tag, rm, image prune, store gc, tag and rm of shared tags, and inspect of a worker's own tag while the rest runs. Loaded, pulled and built images share layers. Each worker owns its tags and tracks what they name; at the end every blob is re-hashed, every owned tag must name what its worker last gave it, and \`store check\` must be clean. Every failure must be one listed as allowed; a process that runs ${OP_TIMEOUT_MS / 1000} s is a hang.`);
    writeResult('concurrency', 'workers', WORKERS);
    writeResult('concurrency', 'durationS', DURATION_MS / 1000);
    writeResult('concurrency', 'operations', operations);
    writeResult('concurrency', 'errors', errors);
    writeResult('concurrency', 'allowedFailures', ALLOWED_FAILURES);
    writeResult('concurrency', 'operationMs', opMs);
    writeResult('concurrency', 'lock', { taken: lines.length, holdMs: hold, waitMs: wait, holdMsByOp: byOp });

    const show = (r: Record_) => `w${r.worker} strata ${r.args.join(' ')} → ${r.error ?? r.code}: ${r.stderr.trim().split('\n')[0]}`;
    expect(unexpected.map(show)).toEqual([]);
    expect(eexist.map(show)).toEqual([]);
    expect(hung.map(show)).toEqual([]);
    expect(corrupt).toEqual([]);
    expect(lost).toEqual([]);
    expect(lostMeanwhile).toEqual([]);
    expect(stray).toEqual([]);
    expect(check).toBe('');
    expect(nondeterministic).toEqual([]);
    expect(Object.keys(operations).sort()).toEqual(WEIGHTS.map(([k]) => k).sort());
    expect(lines.length).toBeGreaterThan(0);
  }, DURATION_MS + 4 * OP_TIMEOUT_MS);
});
