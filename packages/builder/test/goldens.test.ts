import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTempDirs, docker, ensureDockerBusybox, ensureDockerDerivedImage, peerAvailable, REPO_ROOT, runStrata, serveFixtureDir, tempDir } from '@strata/testing';
import { openStore, type Store } from '@strata/image-store';
import { unionView } from '@strata/unionfs';
import { build } from '../src';

// Goldens made by tools/goldens/build.mjs from real `docker build` (BuildKit). The comparison is
// of the merged root filesystem and the runtime config, not of IDs (layer tars differ in mtimes).
// strata always builds the case's `Dockerfile`. A case using syntax Docker 20.10's frontend lacks
// (heredocs, COPY --link/--parents/--exclude, symbolic --chmod, ADD --checksum) also holds
// `Dockerfile.docker`, an equivalent spelled without it, from which the golden was made; files
// only the equivalent uses sit in context/docker-equivalent/ and reach neither image.
// build.json "http": "<dir>" serves that folder of the case on 127.0.0.1 and passes its address
// as the build arg BASE_URL (the golden script does the same for docker build).
// build.json "relative": true builds with the context and Dockerfile given as relative paths.
// build.json "hardlinks": { "link": "target" } builds from a copy of the context where each link
// is a hard link to its target (git keeps no hard links).
// build.json "base": { "tag", "layers": [tar…] } is an image of busybox plus those layer tars as
// they are, loaded into Docker and (through docker save) into strata before the build.
// build.json "current": { "remove": [path…], "why" }: paths the 20.10 golden has that current
// Docker does not make (docs/DOCKER-VERSIONS.md).
// Besides entries, the hard-link groups of the merged filesystem are compared.
const FIXTURES = join(REPO_ROOT, 'test-fixtures/build');
const CONFIG_FIELDS = ['Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'User', 'ExposedPorts', 'Labels', 'Volumes', 'StopSignal', 'Healthcheck', 'Shell', 'OnBuild'];
const EXCLUDED = new Set(['.dockerenv', 'etc/hostname', 'etc/hosts', 'etc/resolv.conf', 'etc/mtab']);
const excluded = (p: string) => EXCLUDED.has(p) || ['dev', 'proc', 'sys'].some((t) => p === t || p.startsWith(`${t}/`));

interface Rec {
  path: string;
  type: string;
  mode: string;
  uid: number;
  gid: number;
  size: number;
  sha256?: string;
  linkname?: string;
}

/** Hardlinks compare as the file they link to (which path tar calls "first" is not meaningful). */
function resolveLinks(list: Rec[]): Rec[] {
  const byPath = new Map(list.map((r) => [r.path, r]));
  return list.map((r) => {
    if (r.type !== 'hardlink') return r;
    const t = byPath.get(r.linkname!);
    return t ? { ...t, path: r.path } : r;
  });
}

const show = (r: Rec) => `${r.type} ${r.mode} ${r.uid}:${r.gid} ${r.size}${r.sha256 ? ` ${r.sha256.slice(0, 12)}` : ''}${r.linkname !== undefined ? ` -> ${r.linkname}` : ''}`;

/** One line per path that differs (readable where a diff of ~300 entries is not). */
function rootfsDiff(ours: Rec[], theirs: Rec[]): string[] {
  const a = new Map(ours.map((r) => [r.path, r]));
  const b = new Map(theirs.map((r) => [r.path, r]));
  const out: string[] = [];
  for (const [p, t] of b) {
    const o = a.get(p);
    if (!o) out.push(`${p}: missing (docker: ${show(t)})`);
    else if (show(o) !== show(t) || o.sha256 !== t.sha256) out.push(`${p}: strata ${show(o)}, docker ${show(t)}`);
  }
  for (const [p, o] of a) if (!b.has(p)) out.push(`${p}: extra (strata: ${show(o)})`);
  return out;
}

function pickConfig(cfg: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of CONFIG_FIELDS) if (cfg?.[k] !== null && cfg?.[k] !== undefined && cfg[k] !== '') out[k] = cfg[k];
  return out;
}

/** Paths that are one file (hard links), as sorted groups of two or more. */
function linkGroups(groups: Map<string, string[]>): string[][] {
  return [...groups.values()].filter((g) => g.length > 1).map((g) => g.sort()).sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/** Docker's export: a hardlink entry joins the group of the path it links to. */
function dockerLinkGroups(list: Rec[]): string[][] {
  const groups = new Map<string, string[]>();
  for (const r of list) if (r.type === 'hardlink') (groups.get(r.linkname!) ?? groups.set(r.linkname!, [r.linkname!]).get(r.linkname!)!).push(r.path);
  return linkGroups(groups);
}

/** The context a case builds: its context/ folder, or a copy of it with the hard links build.json asks for. */
function caseContext(dir: string, hardlinks: Record<string, string> | undefined): string {
  const context = join(dir, 'context');
  if (!hardlinks) return context;
  const copy = join(tempDir(), 'context');
  cpSync(context, copy, { recursive: true });
  for (const [link, target] of Object.entries(hardlinks)) {
    rmSync(join(copy, link), { force: true });
    mkdirSync(join(copy, link, '..'), { recursive: true });
    linkSync(join(copy, target), join(copy, link));
  }
  return copy;
}

async function rootfsOf(store: Store, id: string): Promise<{ entries: Rec[]; links: string[][] }> {
  const img = (await store.image(id)).image;
  const sources = [];
  for (const l of await img.layers()) sources.push({ path: store.blobs.path(await l.digest()) });
  const view = await unionView(sources);
  const out: Rec[] = [];
  const groups = new Map<string, string[]>();
  for (const e of view.entries()) {
    if (e.path === '.' || excluded(e.path)) continue;
    if (e.type === 'file' && e.data) {
      const key = JSON.stringify(e.data);
      (groups.get(key) ?? groups.set(key, []).get(key)!).push(e.path);
    }
    const r: Rec = { path: e.path, type: e.type, mode: (e.mode & 0o7777).toString(8), uid: e.uid, gid: e.gid, size: e.type === 'file' ? e.size : 0 };
    if (e.type === 'file') {
      const h = createHash('sha256');
      for await (const c of await view.read(e.path)) h.update(c);
      r.sha256 = h.digest('hex');
    }
    if (e.type === 'symlink') r.linkname = e.linkname;
    if (e.type === 'hardlink') r.linkname = e.linkname;
    out.push(r);
  }
  return { entries: out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)), links: linkGroups(groups) };
}

const cases = existsSync(FIXTURES) ? readdirSync(FIXTURES).filter((c) => existsSync(join(FIXTURES, c, 'expected.json'))).sort() : [];

describe.skipIf(!peerAvailable('docker'))('docker build goldens (COPY/metadata and RUN)', () => {
  let store: Store;
  let baseId = '';
  beforeAll(async () => {
    const root = join(tempDir(), 'root');
    const tag = ensureDockerBusybox();
    const tar = join(tempDir(), 'busybox.tar');
    const { execFileSync } = await import('node:child_process');
    execFileSync('/bin/sh', ['-c', `/usr/bin/docker save ${tag} > ${tar}`]);
    const r = await runStrata(['image', 'load', '-i', tar], { root });
    expect(r.code, r.stderr).toBe(0);
    store = await openStore(root);
    baseId = (await store.image(tag)).id;
    void docker;
  });
  afterAll(() => cleanupTempDirs());

  it.each(cases)('%s', async (c) => {
    const dir = join(FIXTURES, c);
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
    if (expected.baseId !== baseId) console.warn(`${c}: goldens were made on base ${expected.baseId}, this run has ${baseId}`);
    const opts = existsSync(join(dir, 'build.json')) ? JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8')) : {};
    const server = opts.http ? await serveFixtureDir(join(dir, opts.http)) : undefined;
    const buildArgs = server ? { ...opts.buildArgs, BASE_URL: server.url } : opts.buildArgs;
    if (opts.base) {
      const tag = ensureDockerDerivedImage(opts.base.tag, opts.base.layers.map((l: string) => join(dir, l)));
      const tar = join(tempDir(), 'base.tar');
      expect((await docker(['save', '-o', tar, tag])).code).toBe(0);
      const r = await runStrata(['image', 'load', '-i', tar], { root: store.root });
      expect(r.code, r.stderr).toBe(0);
    }
    const contextDir = caseContext(dir, opts.hardlinks);
    const cwd = process.cwd();
    const run = async () => {
      if (!opts.relative) return build({ store, contextDir, dockerfilePath: join(dir, 'Dockerfile'), buildArgs, target: opts.target, labels: opts.labels });
      // vitest runs this file in a forked process of its own (pool: forks), so chdir is safe.
      process.chdir(dir);
      try {
        return await build({ store, contextDir: 'context', dockerfilePath: 'Dockerfile', buildArgs, target: opts.target, labels: opts.labels });
      } finally {
        process.chdir(cwd);
      }
    };
    let result;
    try {
      if (expected.error) {
        await expect(run()).rejects.toThrow();
        return;
      }
      result = await run();
    } finally {
      await server?.close();
    }
    const cfg = await (await store.image(result.id)).image.config();
    expect(pickConfig(cfg.config as Record<string, unknown>)).toEqual(expected.config);
    const { entries: ours, links } = await rootfsOf(store, result.id);
    let theirs: Rec[] = expected.rootfs;
    // Where current Docker differs from the 20.10 that made the golden, build.json says how
    // ("current": { "remove": [paths], "why" }) and the test expects current Docker's tree.
    if (opts.current?.remove) theirs = theirs.filter((r) => !opts.current.remove.includes(r.path));
    // `docker export` shows /etc even for FROM scratch images: the container's init layer makes it
    // for the /etc/hosts bind-mount targets. It is not in the image unless something is below it.
    if (!ours.some((r) => r.path === 'etc') && !theirs.some((r) => r.path.startsWith('etc/'))) theirs = theirs.filter((r) => r.path !== 'etc');
    expect(rootfsDiff(resolveLinks(ours), resolveLinks(theirs))).toEqual([]);
    expect(links).toEqual(dockerLinkGroups(theirs));
  });
});
