#!/usr/bin/env node
// Regenerates test-fixtures/inspect/<case>/ from the real Docker engine:
//   inspect.json     `docker image inspect` (the golden strata's inspect is compared with)
//   history.jsonl    `docker history --no-trunc --format '{{json .}}'`
//   history.txt      `docker history --no-trunc -H=false` and friends (table forms)
//   config.json      the raw config blob from `docker save` (byte-exact)
//   layers.json      per layer: diffID, tar size and the tar headers (no data), to recompute sizes
//   formats.json     `docker image inspect --format T` for the templates people use
//   errors.json      stdout/stderr/exit code of failing docker invocations (missing image, bad template)
// Needs dockerd (Debian docker.io 20.10) and /usr/bin/docker. Usage: node tools/goldens/inspect.mjs [case…]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import tarStream from 'tar-stream';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = join(root, 'test-fixtures/inspect');
const DOCKER = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
const PREFIX = 'strata-it-inspect/golden-';

export const TEMPLATES = [
  '{{.Os}}/{{.Architecture}}',
  '{{json .Config}}',
  '{{.Config.Env}}',
  '{{.Config.Labels}}',
  '{{.Config.Cmd}}',
  '{{.Config.Entrypoint}}',
  '{{.Config.Volumes}}',
  '{{.Config.ExposedPorts}}',
  '{{.Config.User}}|{{.Config.WorkingDir}}|{{.Config.StopSignal}}',
  '{{range .RepoTags}}{{.}} {{end}}',
  '{{index .RepoTags 0}}',
  '{{.Id}}',
  '{{println .Id}}',
  '{{println "a" 1 true}}',
  '{{print "a" "b" 1 2 "c"}}',
  '{{printf "%s-%d" .Os .Size}}',
  '{{if .Config.Entrypoint}}ep={{json .Config.Entrypoint}}{{else}}no-ep{{end}}',
  '{{if eq .Os "linux"}}L{{else if eq .Os "windows"}}W{{else}}?{{end}}',
  '{{len .RepoTags}} {{len .Config.Env}}',
  '{{join .Config.Env ","}}',
  '{{upper .Os}} {{lower "ABC"}} {{title "hello world"}}',
  '{{split .Id ":"}}',
  '{{index (split .Id ":") 1}}',
  '{{.Config | json}}',
  '{{.RootFS.Layers | len}}',
  '{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}',
  '{{range $i, $t := .RepoTags}}{{$i}}:{{$t}} {{end}}',
  '{{range .Config.Env}}{{$.Os}}:{{.}} {{end}}',
  '{{with .Config.Labels}}{{index . "a"}}{{else}}none{{end}}',
  '{{range .Config.Cmd}}[{{.}}]{{else}}empty{{end}}',
  '{{.RootFS}}',
  '{{.RootFS.Layers}}',
  '{{.Size}} {{.VirtualSize}}',
  '{{.Created}}',
  '{{.Metadata}}',
  '{{json .Metadata}}',
  '{{.GraphDriver.Name}}',
  '{{json .RootFS}}',
  '{{json .RepoTags}} {{json .RepoDigests}}',
  '{{.Config.Healthcheck}}',
  '{{json .Config.Healthcheck}}',
  '{{.Config.OnBuild}}',
  '{{.ContainerConfig.Cmd}}',
  '{{.Parent}}|{{.Comment}}|{{.Author}}|{{.DockerVersion}}',
  '{{and .Config.Cmd .Config.Entrypoint}}|{{or .Config.Entrypoint "none"}}|{{not .Config.Entrypoint}}',
  '{{- .Os -}} {{"x"}}  {{- "y"}}',
  '{{/* a comment */}}{{.Os}}',
  '{{$os := .Os}}{{$os}}{{$os = "z"}}{{$os}}',
  '{{range $i, $e := .Config.Env}}{{if $i}},{{end}}{{$e}}{{end}}',
  '{{.Config.Labels.a}}',
  '{{index .Config.Labels "b.c"}}',
  '{{.NoSuchField}}',
  '{{.Config.NoSuchField}}',
  '{{.Config.Labels.nosuchkey}}',
  '{{json .Config.Env}}',
  '{{range .RootFS.Layers}}{{println .}}{{end}}',
  '{{lt 1 2}} {{le 2 2}} {{gt 1 2}} {{ge 1 2}} {{ne .Os "linux"}} {{eq .Size .Size}}',
  '{{len .Id}}',
  '{{slice .Id 7 19}}',
  '{{truncate .Id 10}}',
  '{{pad .Os 1 2}}|',
  '{{html "<a&b>"}} {{js "a\'b"}} {{urlquery "a b&c"}}',
  '{{.Id | printf "%.19s"}}',
  '{{ 3 }} {{ -2 }} {{ 1.5 }} {{ true }} {{ nil | print }}',
  '{{`raw\\n`}}',
  '{{"esc\\t\\"q\\""}}',
  '{{printf "%q %v %5s|%-5s|%x %t" .Os .Os "ab" "cd" 255 true}}',
  '{{json .}}',
  '{{.RepoTags}} {{.RepoDigests}}',
  '{{.GraphDriver.Data}}|{{.GraphDriver}}',
  '{{.Metadata.LastTagTime}}',
  '{{.ContainerConfig.Env}}|{{.ContainerConfig.Labels}}|{{.ContainerConfig.Volumes}}',
  '{{with .Config}}{{.WorkingDir}}|{{$.Os}}{{end}}',
  '{{with .Config.Entrypoint}}{{index . 0}}{{else}}no entrypoint{{end}}',
  '{{eq .Os "windows" "linux"}} {{eq .Size 0}}',
  '{{index .Config.Labels "missing"}}|',
  '{{range .Config.Env}}{{range $.RepoTags}}{{.}};{{end}}{{end}}',
  '{{range $i, $l := .RootFS.Layers}}{{if gt $i 0}}+{{end}}{{slice $l 7 12}}{{end}}',
  '{{.Config.Env | len | printf "%03d"}}',
  '{{printf "%v|%s|%d" .Config.Env .RepoTags .Size}}',
  '{{printf "%T" .Size}}',
  '{{range $k, $v := .Config.ExposedPorts}}{{$k}}={{$v}} {{end}}',
  '{{range $k, $_ := .Config.Volumes}}{{$k}} {{end}}',
  '{{and 1 0 "x"}}|{{or 0 "" "y"}}|{{not ""}}',
  '{{html .Config.Env}}|{{urlquery .Os "/" .Architecture}}',
  '{{.Config.StopTimeout}}|{{.Config.ArgsEscaped}}|{{.Config.Shell}}',
  '{{lower (index .RepoTags 0)}}',
]

export const BAD_TEMPLATES = [
  '{{.Os',
  '{{.Os}',
  '{{if .Os}}x',
  '{{end}}',
  '{{nosuchfunc .Os}}',
  '{{range}}{{end}}',
  '{{index .RepoTags 5}}',
  '{{.Os.Foo}}',
  '{{$x}}',
  '{{len .Size}}',
];

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts, env: { ...process.env, DOCKER_BUILDKIT: '1', ...opts.env } });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, code: r.status };
}
function ok(cmd, args, opts) {
  const r = sh(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/**
 * The shared busybox base (`strata-test/busybox:latest`, what @strata/testing's ensureDockerBusybox
 * makes); when Docker does not have it yet, it is imported from tools/make-busybox-rootfs.sh.
 */
function ensureBusybox() {
  const tag = 'strata-test/busybox:latest';
  if (sh(DOCKER, ['image', 'inspect', tag]).code === 0) return tag;
  const dir = mkdtempSync(join(tmpdir(), 'strata-goldens-'));
  try {
    ok('bash', [join(root, 'tools/make-busybox-rootfs.sh'), join(dir, 'rootfs.tar')]);
    ok(DOCKER, ['import', '--change', 'CMD ["sh"]', join(dir, 'rootfs.tar'), tag]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return tag;
}

async function tarHeaders(file) {
  const entries = [];
  const extract = tarStream.extract();
  const done = new Promise((resolve, reject) => {
    extract.on('entry', (h, stream, next) => {
      entries.push({ name: h.name, type: h.type, size: h.size, ...(h.linkname ? { linkname: h.linkname } : {}) });
      stream.on('end', next);
      stream.resume();
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.end(readFileSync(file));
  await done;
  return entries;
}

async function capture(name, ref) {
  const dir = join(fixtures, name);
  const inspect = ok(DOCKER, ['image', 'inspect', ref]);
  writeFileSync(join(dir, 'inspect.json'), inspect);
  writeFileSync(join(dir, 'history.jsonl'), ok(DOCKER, ['history', '--no-trunc', '--format', '{{json .}}', ref]));
  const tables = {};
  for (const args of [['--no-trunc', '-H=false'], ['-H=false'], ['-q'], ['-q', '--no-trunc'], ['--format', '{{.ID}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}'], ['--no-trunc', '--format', 'table {{.ID}}\t{{.Size}}']]) {
    tables[args.join(' ')] = ok(DOCKER, ['history', ...args, ref]);
  }
  writeFileSync(join(dir, 'history.json'), `${JSON.stringify(tables, null, 2)}\n`);

  const tmp = mkdtempSync(join(tmpdir(), 'strata-goldens-save-'));
  try {
    ok(DOCKER, ['save', '-o', join(tmp, 'img.tar'), ref]);
    ok('tar', ['-xf', join(tmp, 'img.tar'), '-C', tmp]);
    const manifest = JSON.parse(readFileSync(join(tmp, 'manifest.json'), 'utf8'))[0];
    writeFileSync(join(dir, 'config.json'), readFileSync(join(tmp, manifest.Config)));
    const config = JSON.parse(readFileSync(join(tmp, manifest.Config), 'utf8'));
    const layers = [];
    for (const [i, l] of manifest.Layers.entries()) {
      const file = join(tmp, l);
      layers.push({ diffId: config.rootfs.diff_ids[i], tarSize: readFileSync(file).length, entries: await tarHeaders(file) });
    }
    writeFileSync(join(dir, 'layers.json'), `${JSON.stringify(layers)}\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  const formats = TEMPLATES.map((template) => {
    const r = sh(DOCKER, ['image', 'inspect', '--format', template, ref]);
    return { template, stdout: r.stdout, stderr: r.stderr, code: r.code };
  });
  writeFileSync(join(dir, 'formats.json'), `${JSON.stringify(formats, null, 2)}\n`);
}

async function main() {
  const only = process.argv.slice(2);
  const base = ensureBusybox();
  const cases = readdirSync(fixtures, { withFileTypes: true }).filter((d) => d.isDirectory() && (!only.length || only.includes(d.name))).map((d) => d.name);
  const made = [];
  try {
    for (const name of cases) {
      const dir = join(fixtures, name);
      const ref = `${PREFIX}${name}:latest`;
      if (name === 'base') {
        ok(DOCKER, ['tag', base, ref]);
      } else {
        const legacy = name === 'legacy';
        ok(DOCKER, ['build', '-q', '-t', ref, '-t', `${PREFIX}${name}:second`, dir], { env: { DOCKER_BUILDKIT: legacy ? '0' : '1' } });
        made.push(`${PREFIX}${name}:second`);
      }
      made.push(ref);
      await capture(name, ref);
      process.stdout.write(`captured ${name}\n`);
    }
    // Failures, once: missing image among found ones, bad templates.
    const ref = `${PREFIX}${cases[0]}:latest`;
    const errors = [];
    for (const args of [['image', 'inspect', 'strata-it-inspect/nope:1', ref], ['image', 'inspect', 'strata-it-inspect/nope:1'], ['history', 'strata-it-inspect/nope:1']]) {
      const r = sh(DOCKER, args);
      errors.push({ args: args.map((a) => (a === ref ? 'REF' : a)), stdout: r.stdout.replaceAll(ref, 'REF'), stderr: r.stderr, code: r.code });
    }
    for (const t of BAD_TEMPLATES) {
      const r = sh(DOCKER, ['image', 'inspect', '--format', t, ref]);
      errors.push({ args: ['image', 'inspect', '--format', t, 'REF'], stdout: r.stdout, stderr: r.stderr, code: r.code });
    }
    writeFileSync(join(fixtures, 'errors.json'), `${JSON.stringify(errors, null, 2)}\n`);
  } finally {
    if (made.length) sh(DOCKER, ['rmi', ...made]);
  }
}

await main();
