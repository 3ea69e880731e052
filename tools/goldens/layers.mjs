#!/usr/bin/env node
// Regenerates test-fixtures/layers/images/<case>/ from the real Docker engine:
//   export.json   the entries of `docker export` of a container created from the image
//                 (path, type, mode, uid, gid, size, sha256, linkname; hardlinks as "link" to
//                 the first path, like the tar says), minus what Docker adds to every container
//   diff-base.json the changes from the busybox base to the image, computed from the two
//                 `docker export`s (what applying Docker's own layers gives): kind A|C|D, path, what
// and test-fixtures/layers/pairs/<a>__<b>.json the same between two of the images.
// Needs dockerd and /usr/bin/docker. Usage: node tools/goldens/layers.mjs [case…]
//
// Entries excluded from `docker export` (Docker adds them to every container, they are not in
// the image): /.dockerenv, /etc/hostname, /etc/hosts, /etc/resolv.conf (bind-mount targets
// created by the init layer), /dev/console, /dev/pts, /dev/shm (init layer), /etc/mtab (init
// layer symlink). Directories /dev, /proc, /sys, /etc keep their entry: the base has them.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import tarStream from 'tar-stream';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = join(root, 'test-fixtures/layers');
const DOCKER = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
export const PREFIX = 'strata-it-layers/golden-';
export const EXCLUDED = ['.dockerenv', 'etc/hostname', 'etc/hosts', 'etc/resolv.conf', 'etc/mtab', 'dev/console', 'dev/pts', 'dev/shm'];
export const PAIRS = [['01-create', '02-modify'], ['07-delete', '08-opaque'], ['05-hardlink', '09-type-change']];

const docker = (args, opts = {}) => execFileSync(DOCKER, args, { encoding: 'utf8', env: { ...process.env, DOCKER_BUILDKIT: '1' }, maxBuffer: 1 << 26, ...opts });

async function ensureBase() {
  const dir = mkdtempSync(join(tmpdir(), 'layers-goldens-'));
  const out = join(dir, 'busybox.mjs');
  await build({ entryPoints: [join(root, 'packages/testing/src/busybox.ts')], outfile: out, bundle: true, platform: 'node', format: 'esm', logLevel: 'warning', banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } });
  const mod = await import(pathToFileURL(out).href);
  const tag = mod.ensureDockerBusybox();
  rmSync(dir, { recursive: true, force: true });
  return tag;
}

const clean = (name) => name.replace(/^\.\//, '').replace(/^\/+/, '').replace(/\/+$/, '');

/** Entries of a tar stream (a child process's stdout) as golden records, in tar order. */
async function tarEntries(stream) {
  const entries = [];
  const extract = tarStream.extract();
  const done = new Promise((resolve, reject) => {
    extract.on('entry', (h, body, next) => {
      const hash = createHash('sha256');
      body.on('data', (c) => hash.update(c));
      body.on('end', () => {
        const path = clean(h.name);
        if (path !== '' && path !== '.') {
          const e = { path, type: h.type === 'link' ? 'hardlink' : h.type === 'directory' ? 'dir' : h.type === 'character-device' ? 'char' : h.type === 'block-device' ? 'block' : h.type, mode: (h.mode & 0o7777).toString(8), uid: h.uid, gid: h.gid, size: h.type === 'file' ? h.size : 0 };
          if (h.type === 'file') e.sha256 = hash.digest('hex');
          if (h.type === 'symlink') e.linkname = h.linkname;
          if (h.type === 'link') e.linkname = clean(h.linkname);
          entries.push(e);
        }
        next();
      });
      body.resume();
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  stream.pipe(extract);
  await done;
  return entries;
}

export function excluded(path) {
  return EXCLUDED.some((x) => path === x || path.startsWith(`${x}/`));
}

async function dockerExport(image) {
  const id = docker(['create', image, 'true']).trim();
  try {
    const child = spawn(DOCKER, ['export', id], { stdio: ['ignore', 'pipe', 'inherit'] });
    const entries = await tarEntries(child.stdout);
    return entries.filter((e) => !excluded(e.path));
  } finally {
    docker(['rm', id]);
  }
}

/** Resolve hardlinks to their target's content, as a tree compares (which path is "first" is not content). */
export function resolveLinks(entries) {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  return entries.map((e) => {
    if (e.type !== 'hardlink') return e;
    const t = byPath.get(e.linkname);
    return { ...t, path: e.path };
  });
}

/** Changes from tree a to tree b (golden entry lists): A / C (with what) / D, deleted subtrees collapsed. */
export function treeDiff(a, b) {
  const ma = new Map(resolveLinks(a).map((e) => [e.path, e]));
  const mb = new Map(resolveLinks(b).map((e) => [e.path, e]));
  const out = [];
  for (const [p, eb] of mb) {
    const ea = ma.get(p);
    if (!ea) {
      out.push({ kind: 'A', path: `/${p}` });
      continue;
    }
    const what = [];
    if (ea.type !== eb.type) what.push('type');
    else {
      if (ea.mode !== eb.mode) what.push('mode');
      if (ea.uid !== eb.uid || ea.gid !== eb.gid) what.push('owner');
      if (ea.type === 'symlink' && ea.linkname !== eb.linkname) what.push('linkname');
      if (ea.type === 'file' && ea.size !== eb.size) what.push('size');
      if (ea.type === 'file' && ea.sha256 !== eb.sha256) what.push('content');
    }
    if (what.length) out.push({ kind: 'C', path: `/${p}`, what });
  }
  const deleted = [...ma.keys()].filter((p) => !mb.has(p) || (ma.get(p).type === 'dir' && mb.get(p).type !== 'dir' && false));
  const gone = new Set(deleted);
  for (const p of deleted) {
    const parent = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '';
    // Not listed when its parent directory went too, or became a non-directory.
    if (parent && (gone.has(parent) || (ma.get(parent)?.type === 'dir' && mb.get(parent) && mb.get(parent).type !== 'dir'))) {
      gone.add(p);
      continue;
    }
    let anc = parent;
    let hidden = false;
    while (anc) {
      if (gone.has(anc) && !mb.has(anc)) hidden = true;
      if (ma.get(anc)?.type === 'dir' && mb.get(anc) && mb.get(anc).type !== 'dir') hidden = true;
      anc = anc.includes('/') ? anc.slice(0, anc.lastIndexOf('/')) : '';
    }
    if (!hidden) out.push({ kind: 'D', path: `/${p}` });
  }
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

const lines = (xs) => `[\n${xs.map((x) => JSON.stringify(x)).join(',\n')}\n]\n`;

async function main() {
  const base = await ensureBase();
  const only = process.argv.slice(2);
  const cases = readdirSync(join(fixtures, 'images')).filter((c) => only.length === 0 || only.includes(c)).sort();
  const baseEntries = await dockerExport(base);
  const exports = new Map();
  for (const c of cases) {
    const dir = join(fixtures, 'images', c);
    const tag = `${PREFIX}${c}`;
    docker(['build', '-q', '-t', tag, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const entries = await dockerExport(tag);
    exports.set(c, entries);
    writeFileSync(join(dir, 'export.json'), lines(entries));
    writeFileSync(join(dir, 'diff-base.json'), lines(treeDiff(baseEntries, entries)));
    process.stderr.write(`${c}: ${entries.length} entries\n`);
  }
  mkdirSync(join(fixtures, 'pairs'), { recursive: true });
  for (const [a, b] of PAIRS) {
    if (!exports.has(a) || !exports.has(b)) continue;
    writeFileSync(join(fixtures, 'pairs', `${a}__${b}.json`), lines(treeDiff(exports.get(a), exports.get(b))));
  }
  for (const c of cases) docker(['rmi', `${PREFIX}${c}`], { stdio: 'ignore' });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
