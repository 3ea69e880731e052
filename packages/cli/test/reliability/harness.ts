// The reliability campaign's common parts (issue 18): running strata so it can be killed at a
// named checkpoint (STRATA_TEST_PAUSE_AT) or at a time, what a store holds (its logical state),
// what the host holds for a store's containers, and where results go.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashTree, LOOPBACK_ONLY_ENV, STRATA_BIN } from '@strata/testing';

/** `STRATA_RELIABILITY=full`: the whole campaign (tools/reliability/campaign.mjs sets it); otherwise CI's subset. */
export const FULL = process.env.STRATA_RELIABILITY === 'full';
/** Where the campaign wants its JSON results (unset in CI: the committed figures stay the last full run's). */
export const RESULTS_DIR = process.env.STRATA_RELIABILITY_OUT;
/** The campaign's seed, printed so a run can be replayed (`STRATA_RELIABILITY_SEED=N`). */
export const SEED = Number(process.env.STRATA_RELIABILITY_SEED ?? 0) || 18_0001;

/** A small deterministic PRNG (mulberry32): the kill times of a run follow from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fixed clock, zone and build epoch: a rerun must give the same image IDs as the first run. */
export const STABLE_ENV: Record<string, string> = { TZ: 'UTC', STRATA_NOW: '2024-01-02T03:04:05Z', SOURCE_DATE_EPOCH: '1700000000', STRATA_LOCK_TIMEOUT: '60' };

export interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Killed by us (SIGKILL), at `at`. */
  killed: boolean;
  /** The checkpoints the process passed, in order (`point#N`). */
  points: string[];
  elapsedMs: number;
}

export interface KillAt {
  /** A checkpoint (`blob-stored#2`): the process stops there and is killed. */
  point?: string;
  /** Or a time after the start. */
  afterMs?: number;
}

/**
 * Run `strata --root ROOT ARGS` and kill it with SIGKILL at a checkpoint or a time; without
 * either it runs to the end (its checkpoints listed all the same, through a point never reached).
 * A process that neither stops nor ends within `timeoutMs` is killed and reported (a hang).
 */
export function runKillable(root: string, args: string[], o: { env?: Record<string, string>; kill?: KillAt; timeoutMs?: number; input?: string; scratch: string }): Promise<Outcome & { hung: boolean }> {
  mkdirSync(o.scratch, { recursive: true });
  const marker = join(o.scratch, `pause-${process.hrtime.bigint()}`);
  const env = {
    ...process.env,
    ...LOOPBACK_ONLY_ENV,
    ...STABLE_ENV,
    ...o.env,
    STRATA_TEST_PAUSE_AT: o.kill?.point ?? 'never-reached',
    STRATA_TEST_PAUSE_FILE: marker,
  };
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [STRATA_BIN, '--root', root, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {});
    child.stdin.end(o.input ?? '');
    let killed = false;
    let hung = false;
    const kill = () => {
      if (!killed && child.exitCode === null && child.signalCode === null) killed = child.kill('SIGKILL');
    };
    const poll = setInterval(() => {
      if (o.kill?.point !== undefined && existsSync(marker)) kill();
      if (Date.now() - t0 > (o.timeoutMs ?? 120_000)) {
        hung = true;
        kill();
      }
    }, 3);
    const timer = o.kill?.afterMs !== undefined ? setTimeout(kill, o.kill.afterMs) : undefined;
    child.on('error', reject);
    // A killed command's children (a container's process, runc) may hold its stdout open: once it
    // has exited, wait for its pipes at most a second.
    let done = false;
    child.on('exit', () => setTimeout(() => finish(child.exitCode, child.signalCode), 1000).unref());
    child.on('close', (code, signal) => finish(code, signal));
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (done) return;
      done = true;
      child.stdout.destroy();
      child.stderr.destroy();
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      let points: string[] = [];
      try {
        points = readFileSync(`${marker}.points`, 'utf8').split('\n').filter(Boolean);
      } catch {
        // no checkpoint reached
      }
      rmSync(marker, { force: true });
      rmSync(`${marker}.points`, { force: true });
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), killed: killed && signal === 'SIGKILL', hung, points, elapsedMs: Date.now() - t0 });
    };
  });
}

/** One image of a store: what identifies it (manifest digest), its tags and its layers. */
export interface ImageState {
  manifest: string;
  id: string;
  tags: string[];
  diffIds: string[];
}

/** What a store holds, as far as a user can tell: images and tags, containers, volumes. */
export interface StoreState {
  images: ImageState[];
  containers: Array<{ name: string; state: string; image: string }>;
  volumes: Array<{ name: string; content: string }>;
  blobs: string[];
}

const readJson = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;

/** The state of the store at `root`, read from its files (an image whose blobs are missing throws). */
export function storeState(root: string): StoreState {
  const blobDir = join(root, 'blobs', 'sha256');
  const blob = (d: string) => join(blobDir, d.slice('sha256:'.length));
  const index = existsSync(join(root, 'index.json')) ? readJson<{ manifests: Array<{ digest: string; annotations?: Record<string, string> }> }>(join(root, 'index.json')) : { manifests: [] };
  const byManifest = new Map<string, ImageState>();
  for (const d of index.manifests) {
    let img = byManifest.get(d.digest);
    if (!img) {
      const m = readJson<{ config: { digest: string } }>(blob(d.digest));
      const c = readJson<{ rootfs: { diff_ids: string[] } }>(blob(m.config.digest));
      img = { manifest: d.digest, id: m.config.digest, tags: [], diffIds: c.rootfs.diff_ids };
      byManifest.set(d.digest, img);
    }
    const tag = d.annotations?.['io.containerd.image.name'] ?? d.annotations?.['org.opencontainers.image.ref.name'];
    if (tag && !img.tags.includes(tag)) img.tags.push(tag);
  }
  const images = [...byManifest.values()].map((i) => ({ ...i, tags: i.tags.sort() })).sort((a, b) => (a.manifest < b.manifest ? -1 : 1));
  const containers: StoreState['containers'] = [];
  const cdir = join(root, 'containers');
  for (const id of existsSync(cdir) ? readdirSync(cdir) : []) {
    try {
      const r = readJson<{ name: string; state: string; image: string }>(join(cdir, id, 'container.json'));
      containers.push({ name: r.name, state: r.state, image: r.image });
    } catch {
      containers.push({ name: `(${id} without a record)`, state: 'broken', image: '' });
    }
  }
  const volumes: StoreState['volumes'] = [];
  const vdir = join(root, 'volumes');
  for (const n of existsSync(vdir) ? readdirSync(vdir).filter((x) => !x.startsWith('.')) : []) {
    if (!existsSync(join(vdir, n, 'volume.json'))) {
      volumes.push({ name: n, content: 'no record' });
      continue;
    }
    volumes.push({ name: n, content: existsSync(join(vdir, n, '_data')) ? hashTree(join(vdir, n, '_data')) : 'no data' });
  }
  const blobs = existsSync(blobDir) ? readdirSync(blobDir).sort() : [];
  return { images, containers: containers.sort((a, b) => (a.name < b.name ? -1 : 1)), volumes, blobs };
}

/** Every blob in blobs/sha256 (of a store or an OCI layout) hashes to its name: the names of those that do not. */
export function corruptBlobs(root: string): string[] {
  const dir = join(root, 'blobs', 'sha256');
  if (!existsSync(dir)) return [];
  const bad: string[] = [];
  for (const n of readdirSync(dir)) {
    const st = statSync(join(dir, n));
    if (!st.isFile()) {
      bad.push(`${n} (not a file)`);
      continue;
    }
    if (createHash('sha256').update(readFileSync(join(dir, n))).digest('hex') !== n) bad.push(n);
  }
  return bad;
}

/**
 * What the host holds for the containers of a store (by their IDs) and for the store itself:
 * mounts under it or of their network namespaces, the namespaces, netfilter rules naming them,
 * CNI leases, teardown records and live entries, cgroups (processes). Each entry names the leak.
 */
export function hostResidue(root: string, ids: Iterable<string>, runDir = '/run/strata'): string[] {
  const out: string[] = [];
  const idList = [...new Set(ids)];
  for (const l of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const target = l.split(' ')[1] ?? '';
    if (target === root || target.startsWith(`${root}/`) || idList.some((id) => target.includes(`strata-${id.slice(0, 24)}`))) out.push(`mount ${target}`);
  }
  for (const id of idList) {
    if (existsSync(`/run/netns/strata-${id.slice(0, 24)}`)) out.push(`netns strata-${id.slice(0, 24)}`);
    for (const d of ['/sys/fs/cgroup/strata', '/sys/fs/cgroup/pids/strata']) if (existsSync(join(d, id))) out.push(`cgroup ${join(d, id)}`);
    for (const sub of ['live', 'net']) {
      const dir = join(runDir, sub);
      for (const n of existsSync(dir) ? readdirSync(dir) : []) if (n.startsWith(id)) out.push(`${sub} record ${n}`);
    }
  }
  const cni = join(runDir, 'cni');
  const walk = (d: string) => {
    for (const n of existsSync(d) ? readdirSync(d) : []) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const text = readFileSync(p, 'utf8');
        if (idList.some((id) => text.includes(id))) out.push(`cni lease ${p}`);
      }
    }
  };
  walk(cni);
  if (idList.length) {
    for (const table of ['filter', 'nat', 'mangle']) {
      let rules = '';
      try {
        rules = execFileSync('iptables', ['-w', '-t', table, '-S'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      } catch {
        continue;
      }
      for (const r of rules.split('\n')) if (idList.some((id) => r.includes(id))) out.push(`iptables -t ${table} ${r}`);
    }
  }
  return out;
}

/**
 * The host ends of the veth pairs in the network namespaces of these containers (those that
 * exist now): taken right after a kill, they must all be gone once the store is cleaned up.
 */
export function vethsOf(ids: Iterable<string>): string[] {
  const hostIf = new Map<number, string>();
  for (const n of readdirSync('/sys/class/net')) {
    try {
      hostIf.set(Number(readFileSync(join('/sys/class/net', n, 'ifindex'), 'utf8')), n);
    } catch {
      // went away while listed
    }
  }
  const out: string[] = [];
  for (const id of new Set(ids)) {
    const ns = `strata-${id.slice(0, 24)}`;
    if (!existsSync(join('/run/netns', ns))) continue;
    try {
      const links = JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'link', 'show'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as Array<{ link_index?: number; link_netnsid?: number }>;
      for (const l of links) if (l.link_index !== undefined && l.link_netnsid !== undefined && hostIf.has(l.link_index)) out.push(hostIf.get(l.link_index)!);
    } catch {
      // the namespace went meanwhile
    }
  }
  return out;
}

/** Host-wide counts of what strata's containers use (meaningful when nothing else runs containers: the full campaign). */
export function hostCounts(runDir = '/run/strata'): Record<string, number> {
  const dir = (d: string) => (existsSync(d) ? readdirSync(d).length : 0);
  let rules = 0;
  for (const t of ['filter', 'nat', 'mangle']) {
    try {
      rules += execFileSync('iptables', ['-w', '-t', t, '-S'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter((l) => /CNI-|STRATA|strata/.test(l)).length;
    } catch {
      // no iptables
    }
  }
  return {
    rules,
    veths: dir('/sys/class/net/strata0/brif'),
    netns: existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith('strata-')).length : 0,
    mounts: readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => /\/run\/netns\/strata-|\/run\/strata|overlay strata|strata-export/.test(l)).length,
    teardownRecords: dir(join(runDir, 'net')),
    live: dir(join(runDir, 'live')),
    cgroups: dir('/sys/fs/cgroup/strata') + dir('/sys/fs/cgroup/pids/strata'),
  };
}

/** Container IDs a store knows (records, writable layers, live entries naming it). */
export function containerIds(root: string, runDir = '/run/strata'): string[] {
  const out = new Set<string>();
  for (const d of [join(root, 'containers'), join(root, 'writable')]) for (const n of existsSync(d) ? readdirSync(d) : []) if (!n.startsWith('.')) out.add(n);
  const live = join(runDir, 'live');
  for (const n of existsSync(live) ? readdirSync(live) : []) {
    try {
      const e = readJson<{ id: string; root: string }>(join(live, n));
      if (e.root === root) out.add(e.id);
    } catch {
      // a temp file or a claimed entry being read
    }
  }
  return [...out];
}

/** Undo what a failed case left mounted under `dir`, so removing it cannot reach through a mount. */
export function unmountUnder(dir: string): void {
  const targets = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((t) => t.startsWith(dir));
  for (const t of targets.sort((a, b) => b.length - a.length)) {
    try {
      execFileSync('umount', ['-l', t], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}

/** Merge one part's figures into RESULTS_DIR/<file>.json (the campaign's record; nothing in CI). */
export function writeResult(file: string, key: string, value: unknown): void {
  if (!RESULTS_DIR) return;
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${file}.json`);
  let doc: Record<string, unknown> = {};
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    // first part of this run
  }
  doc[key] = value;
  writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`);
}
