import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTempDirs, docker, ensureDockerBusybox, peerAvailable, REPO_ROOT, runStrata, tempDir } from '@strata/testing';
import { openStore, type Store } from '@strata/image-store';
import { unionView } from '@strata/unionfs';
import { build } from '../src';

// Goldens made by tools/goldens/build.mjs from real `docker build` (BuildKit). The comparison is
// of the merged root filesystem and the runtime config, not of IDs (layer tars differ in mtimes).
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

function pickConfig(cfg: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of CONFIG_FIELDS) if (cfg?.[k] !== null && cfg?.[k] !== undefined && cfg[k] !== '') out[k] = cfg[k];
  return out;
}

async function rootfsOf(store: Store, id: string): Promise<Rec[]> {
  const img = (await store.image(id)).image;
  const sources = [];
  for (const l of await img.layers()) sources.push({ path: store.blobs.path(await l.digest()) });
  const view = await unionView(sources);
  const out: Rec[] = [];
  for (const e of view.entries()) {
    if (e.path === '.' || excluded(e.path)) continue;
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
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
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
    const run = () => build({ store, contextDir: join(dir, 'context'), dockerfilePath: join(dir, 'Dockerfile'), buildArgs: opts.buildArgs, target: opts.target, labels: opts.labels });
    if (expected.error) {
      await expect(run()).rejects.toThrow();
      return;
    }
    const result = await run();
    const cfg = await (await store.image(result.id)).image.config();
    expect(pickConfig(cfg.config as Record<string, unknown>)).toEqual(expected.config);
    const ours = await rootfsOf(store, result.id);
    let theirs: Rec[] = expected.rootfs;
    // `docker export` shows /etc even for FROM scratch images: the container's init layer makes it
    // for the /etc/hosts bind-mount targets. It is not in the image unless something is below it.
    if (!ours.some((r) => r.path === 'etc') && !theirs.some((r) => r.path.startsWith('etc/'))) theirs = theirs.filter((r) => r.path !== 'etc');
    expect(resolveLinks(ours)).toEqual(resolveLinks(theirs));
  });
});
