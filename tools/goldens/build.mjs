#!/usr/bin/env node
// Regenerates test-fixtures/build/<case>/expected.json from real `docker build` (BuildKit,
// DOCKER_BUILDKIT=1) for every case folder holding a Dockerfile, a context/ directory and an
// optional build.json ({ buildArgs, target, labels, http }):
//   baseId   the image ID of strata-test/busybox:latest used (the test loads that same image
//            with `docker save` → `strata image load`, so both sides start from one base)
//   rootfs   the merged root filesystem of the result: entries of `docker export` of a container
//            created from it (path, type, mode, uid, gid, size, sha256, linkname), minus what
//            Docker adds to every container (/.dockerenv, /etc/hostname, /etc/hosts,
//            /etc/resolv.conf, /etc/mtab, and /dev, /proc, /sys with everything below)
//   config   Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts, Labels, Volumes, StopSignal,
//            Healthcheck, Shell, OnBuild of the image config (nulls dropped)
//   error    when docker build failed (the case then expects strata to fail too)
//
// Syntax Docker 20.10's built-in frontend lacks (heredocs, COPY --link/--parents/--exclude,
// symbolic --chmod, ADD --checksum; no `# syntax=` pulls here): such a case also holds
// `Dockerfile.docker`, an equivalent Dockerfile spelled without it, and this script builds that
// one instead (strata always builds `Dockerfile`). Whatever only the equivalent needs (files
// standing in for heredoc bodies, scripts for bind mounts) sits in context/docker-equivalent/,
// which `Dockerfile` never copies, so it reaches neither image. Where the equivalent has to
// spell out a BuildKit behaviour (e.g. --link resetting parent directories), its comments say so.
//
// build.json "http": "<dir>" serves test-fixtures/build/<case>/<dir>/ on 127.0.0.1 (dockerd and
// the test both reach it; see packages/testing/src/http-fixture.ts) and passes its address as
// the build arg BASE_URL, for `ADD <url>` cases.
// build.json "hardlinks": { "link": "target" }: the build's context is a copy of context/ where
// each link is a hard link to its target (git keeps no hard links).
// build.json "base": { "tag", "layers": [tar…] }: an image of busybox plus those layer tars as
// they are (packages/testing/src/derived-image.ts), loaded into Docker before the build.
// build.json "relative": true only changes how the test runs strata (relative paths).
// Needs dockerd and /usr/bin/docker. Usage: node tools/goldens/build.mjs [case…]
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import tarStream from 'tar-stream';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = join(root, 'test-fixtures/build');
const DOCKER = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
const PREFIX = 'strata-it-build/golden';
export const EXCLUDED = new Set(['.dockerenv', 'etc/hostname', 'etc/hosts', 'etc/resolv.conf', 'etc/mtab']);
export const EXCLUDED_TREES = ['dev', 'proc', 'sys'];
export const CONFIG_FIELDS = ['Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'User', 'ExposedPorts', 'Labels', 'Volumes', 'StopSignal', 'Healthcheck', 'Shell', 'OnBuild'];

const env = { ...process.env, DOCKER_BUILDKIT: '1' };
const docker = (args, opts = {}) => execFileSync(DOCKER, args, { encoding: 'utf8', env, maxBuffer: 1 << 26, ...opts });

/** The testing package's busybox base and fixture HTTP server, bundled for plain node. */
async function loadTesting() {
  const dir = mkdtempSync(join(tmpdir(), 'build-goldens-'));
  const out = join(dir, 'testing.mjs');
  const src = join(root, 'packages/testing/src');
  await build({
    stdin: { contents: `export * from './busybox.ts';\nexport * from './http-fixture.ts';\nexport * from './derived-image.ts';\n`, resolveDir: src, loader: 'ts' },
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'warning',
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  const mod = await import(pathToFileURL(out).href);
  rmSync(dir, { recursive: true, force: true });
  return mod;
}

export const excluded = (path) => EXCLUDED.has(path) || EXCLUDED_TREES.some((t) => path === t || path.startsWith(`${t}/`));

/** The config fields compared, with nulls and absent values dropped. */
export function pickConfig(cfg) {
  const out = {};
  for (const k of CONFIG_FIELDS) if (cfg?.[k] !== null && cfg?.[k] !== undefined && cfg[k] !== '') out[k] = cfg[k];
  return out;
}

async function exportEntries(id) {
  const cid = docker(['create', id, 'x']).trim();
  try {
    const child = spawn(DOCKER, ['export', cid], { stdio: ['ignore', 'pipe', 'inherit'] });
    const entries = [];
    const extract = tarStream.extract();
    await new Promise((resolve, reject) => {
      extract.on('entry', (h, body, next) => {
        const hash = createHash('sha256');
        body.on('data', (c) => hash.update(c));
        body.on('end', () => {
          const path = h.name.replace(/^\.\//, '').replace(/^\/+/, '').replace(/\/+$/, '');
          if (path !== '' && path !== '.' && !excluded(path)) {
            const type = h.type === 'link' ? 'hardlink' : h.type === 'directory' ? 'dir' : h.type === 'character-device' ? 'char' : h.type === 'block-device' ? 'block' : h.type;
            const e = { path, type, mode: (h.mode & 0o7777).toString(8), uid: h.uid, gid: h.gid, size: type === 'file' ? h.size : 0 };
            if (type === 'file') e.sha256 = hash.digest('hex');
            if (type === 'symlink') e.linkname = h.linkname;
            if (type === 'hardlink') e.linkname = h.linkname.replace(/^\.\//, '').replace(/^\/+/, '');
            entries.push(e);
          }
          next();
        });
        body.resume();
      });
      extract.on('finish', resolve);
      extract.on('error', reject);
      child.stdout.pipe(extract);
    });
    return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  } finally {
    docker(['rm', '-f', cid]);
  }
}

async function main() {
  const testing = await loadTesting();
  const base = testing.ensureDockerBusybox();
  const baseId = docker(['image', 'inspect', '-f', '{{.Id}}', base]).trim();
  const only = process.argv.slice(2);
  const cases = readdirSync(fixtures).filter((c) => existsSync(join(fixtures, c, 'Dockerfile')) && (only.length === 0 || only.includes(c))).sort();
  for (const c of cases) {
    const dir = join(fixtures, c);
    const opts = existsSync(join(dir, 'build.json')) ? JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8')) : {};
    const tag = `${PREFIX}:${c}`;
    const dockerfile = existsSync(join(dir, 'Dockerfile.docker')) ? 'Dockerfile.docker' : 'Dockerfile';
    const args = ['build', '-q', '-t', tag, '-f', join(dir, dockerfile)];
    for (const [k, v] of Object.entries(opts.buildArgs ?? {})) args.push('--build-arg', `${k}=${v}`);
    const server = opts.http ? await testing.serveFixtureDir(join(dir, opts.http)) : undefined;
    if (server) args.push('--build-arg', `BASE_URL=${server.url}`);
    for (const [k, v] of Object.entries(opts.labels ?? {})) args.push('--label', `${k}=${v}`);
    if (opts.target) args.push('--target', opts.target);
    if (opts.base) testing.ensureDockerDerivedImage(opts.base.tag, opts.base.layers.map((l) => join(dir, l)));
    let context = join(dir, 'context');
    let linked;
    if (opts.hardlinks) {
      linked = mkdtempSync(join(tmpdir(), 'build-goldens-context-'));
      context = join(linked, 'context');
      cpSync(join(dir, 'context'), context, { recursive: true });
      for (const [link, target] of Object.entries(opts.hardlinks)) {
        rmSync(join(context, link), { force: true });
        mkdirSync(join(context, link, '..'), { recursive: true });
        linkSync(join(context, target), join(context, link));
      }
    }
    args.push(context);
    // Async: the fixture server answers dockerd from this process while docker build runs.
    const r = await new Promise((resolve) => {
      const child = spawn(DOCKER, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b) => (stdout += b));
      child.stderr.on('data', (b) => (stderr += b));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
    await server?.close();
    if (linked) rmSync(linked, { recursive: true, force: true });
    let expected;
    if (r.status !== 0) {
      const line = r.stderr.trim().split('\n').filter(Boolean).at(-1) ?? '';
      expected = { baseId, error: line };
      console.log(`${c}: docker build failed: ${line}`);
    } else {
      const id = r.stdout.trim();
      const inspect = JSON.parse(docker(['image', 'inspect', id]))[0];
      expected = { baseId, config: pickConfig(inspect.Config), rootfs: await exportEntries(id) };
      docker(['rmi', tag]);
      console.log(`${c}: ${expected.rootfs.length} entries${dockerfile === 'Dockerfile' ? '' : ` (from ${dockerfile})`}`);
    }
    writeFileSync(join(dir, 'expected.json'), `${JSON.stringify(expected, null, 1)}\n`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();
