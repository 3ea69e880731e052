// `image inspect`, `image history`, `image efficiency` on a store filled through the store API
// (no Docker needed): two hand-made layers with known sizes, a config with history and metadata.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pack } from 'tar-stream';
import { openStore } from '@strata/image-store';
import { imageFromParts } from '@strata/image';
import { layerFromUncompressed } from '@strata/layer';
import { sha256 } from '@strata/oci';
import { cleanupTempDirs, runStrata, tempDir } from '@strata/testing';

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; body?: string; linkname?: string };

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => p.on('end', () => r()));
  for (const e of entries) {
    await new Promise<void>((resolve, reject) =>
      p.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: e.type === 'directory' ? 0o755 : 0o644, mtime: new Date(0) }, e.body ?? '', (err) => (err ? reject(err) : resolve())),
    );
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

const L0: Entry[] = [
  { name: 'etc/', type: 'directory' },
  { name: 'etc/app.conf', body: 'x'.repeat(1000) },
  { name: 'etc/app.link', type: 'link', linkname: 'etc/app.conf' },
  { name: 'etc/sym', type: 'symlink', linkname: 'app.conf' },
  { name: 'tmp-file', body: 'y'.repeat(500) },
];
const L1: Entry[] = [
  { name: 'etc/', type: 'directory' },
  { name: 'etc/app.conf', body: 'short' },
  { name: '.wh.tmp-file' },
];

let root = '';
let id = '';

beforeAll(async () => {
  root = `${await tempDir()}/store`;
  const tars = [await tarOf(L0), await tarOf(L1)];
  const layers = tars.map((t) => layerFromUncompressed({ open: async () => (async function* () { yield t; })() }));
  const config = {
    architecture: 'arm64',
    variant: 'v8',
    os: 'linux',
    author: 'someone <a&b@example.com>',
    created: '2024-05-06T07:08:09.120000000Z',
    config: { Env: ['A=1'], Cmd: 'run.sh', Labels: { 'x.y': '<z>' }, Healthcheck: { Test: ['CMD', 'true'], Interval: 90e9 }, workingdir: '/srv' },
    rootfs: { type: 'layers', diff_ids: tars.map((t) => sha256(t)) },
    history: [
      { created: '2024-05-06T07:08:00Z', created_by: '/bin/sh -c #(nop) ADD file:0123456789abcdef0123456789abcdef in / ' },
      { created: '2024-05-06T07:08:05Z', created_by: 'ENV A=1', empty_layer: true, comment: 'buildkit.dockerfile.v0' },
      { created: '2024-05-06T07:08:09Z', created_by: 'RUN /bin/sh -c echo\tshort > /etc/app.conf && rm /tmp-file # buildkit', comment: 'buildkit.dockerfile.v0' },
    ],
  };
  const rawConfig = Buffer.from(JSON.stringify(config));
  id = sha256(rawConfig);
  const store = await openStore(root);
  await store.putImage(imageFromParts({ rawConfig, layers }), { tags: ['example.com/team/app:1', 'app:latest'] });
});

afterAll(() => cleanupTempDirs());

describe('image inspect (store API fixture)', () => {
  it('prints the Docker-shaped object', async () => {
    const r = await runStrata(['image', 'inspect', 'app'], { root });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [o] = JSON.parse(r.out);
    expect(Object.keys(o)).toEqual(['Id', 'RepoTags', 'RepoDigests', 'Parent', 'Comment', 'Created', 'Container', 'ContainerConfig', 'DockerVersion', 'Author', 'Config', 'Architecture', 'Variant', 'Os', 'Size', 'VirtualSize', 'GraphDriver', 'RootFS', 'Metadata']);
    expect(o.Id).toBe(id);
    expect(o.RepoTags).toEqual(['app:latest', 'example.com/team/app:1']);
    expect(o.Comment).toBe('buildkit.dockerfile.v0'); // newest history entry's, as Docker does
    expect(o.Created).toBe('2024-05-06T07:08:09.12Z');
    // Docker's layer sizes: regular files only, hard links once, symlinks and whiteouts 0.
    expect(o.Size).toBe(1000 + 500 + 5);
    expect(o.Config.Cmd).toEqual(['run.sh']); // StrSlice accepts a string
    expect(o.Config.WorkingDir).toBe('/srv'); // Go's JSON keys are case-insensitive
    expect(o.Config.Healthcheck).toEqual({ Test: ['CMD', 'true'], Interval: 90e9 });
    expect(o.Config.Volumes).toBeNull();
    expect(o.GraphDriver).toEqual({ Data: null, Name: 'strata' });
    // Go's encoder escapes <, > and & in the raw output.
    expect(r.out).toContain('"Author": "someone \\u003ca\\u0026b@example.com\\u003e"');
    expect(r.out.startsWith('[\n    {\n        "Id": ')).toBe(true);
  });

  it('by tag (index lookup), ID and ID prefix (store resolution) give the same object', async () => {
    const outs = await Promise.all(['app:latest', 'example.com/team/app:1', id, id.slice(7, 19)].map((r) => runStrata(['image', 'inspect', r], { root })));
    for (const o of outs) expect([o.code, o.stderr]).toEqual([0, '']);
    expect(new Set(outs.map((o) => o.out)).size).toBe(1);
  });

  it('--format with Go types: durations, nil slices, maps', async () => {
    const r = await runStrata(['image', 'inspect', '-f', '{{.Config.Healthcheck.Interval}} {{.Config.Entrypoint}} {{.Config.Labels}} {{.Variant}}', id], { root });
    expect(r.out).toBe('1m30s [] map[x.y:<z>] v8\n');
  });
});

describe('image history (store API fixture)', () => {
  it('rows, sizes, <missing>, truncation', async () => {
    const r = await runStrata(['image', 'history', '-H=false', 'app'], { root, env: { TZ: 'UTC' } });
    expect(r.code).toBe(0);
    const short = id.slice(7, 19);
    expect(r.out).toBe(
      [
        'IMAGE          CREATED AT             CREATED BY                                      SIZE      COMMENT',
        `${short}   2024-05-06T07:08:09Z   RUN /bin/sh -c echo short > /etc/app.conf &&…   5         buildkit.dockerfile.v0`,
        '<missing>      2024-05-06T07:08:05Z   ENV A=1                                         0         buildkit.dockerfile.v0',
        '<missing>      2024-05-06T07:08:00Z   /bin/sh -c #(nop) ADD file:0123456789abcdef0…   1500      ',
        '',
      ].join('\n'),
    );
  });

  it('-q --no-trunc and json', async () => {
    const q = await runStrata(['-q', 'image', 'history', '--no-trunc', 'app'], { root });
    expect(q.out).toBe(`${id}\n<missing>\n<missing>\n`);
    const j = await runStrata(['image', 'history', '--format', 'json', 'app'], { root });
    const rows = j.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(Object.keys(rows[0])).toEqual(['Comment', 'CreatedAt', 'CreatedBy', 'CreatedSince', 'ID', 'Size']);
    expect(rows.map((x) => x.Size)).toEqual(['5B', '0B', '1.5kB']);
  });

  it('human dates, relative to now (pinned by STRATA_NOW)', async () => {
    const r = await runStrata(['image', 'history', 'app'], { root, env: { STRATA_NOW: '2024-05-30T07:08:09Z' } });
    expect(r.out.trimEnd().split('\n').slice(1).map((l) => l.split(/ {3,}/)[1])).toEqual(['3 weeks ago', '3 weeks ago', '3 weeks ago']);
    const later = await runStrata(['image', 'history', 'app'], { root, env: { STRATA_NOW: String(Date.parse('2025-05-06T07:08:09Z') / 1000) } });
    expect(later.out.split('\n')[1].split(/ {3,}/)[1]).toBe('12 months ago'); // go-units: months up to two years
    const bad = await runStrata(['image', 'history', 'app'], { root, env: { STRATA_NOW: '2024-05-30 07:08:09' } });
    expect([bad.code, bad.stderr]).toEqual([2, 'strata: STRATA_NOW must be an RFC 3339 time with a zone or Unix seconds, not "2024-05-30 07:08:09"\n']);
  });
});

describe('image efficiency (store API fixture)', () => {
  it("reports dive's figures: every copy of a path held twice counts", async () => {
    const r = await runStrata(['--format', 'json', 'image', 'efficiency', 'app'], { root });
    const rep = JSON.parse(r.out);
    // app.conf 1000 then 5 (cumulative 1005, min 5); tmp-file 500 then deleted (a file's whiteout counts 0).
    expect(rep.image).toMatchObject({ sizeBytes: 1505, inefficientBytes: 1505, efficiencyScore: 5 / 1505, userSizeBytes: 5, reclaimableBytes: 1500 });
    expect(rep.image.fileReference.map((p: { file: string; sizeBytes: number; count: number }) => [p.file, p.sizeBytes, p.count])).toEqual([
      ['/etc/app.conf', 1005, 2],
      ['/tmp-file', 500, 2],
    ]);
    expect(rep.layer.map((l: { sizeBytes: number }) => l.sizeBytes)).toEqual([1500, 5]);
  });
});

describe('errors', () => {
  it('missing image among found ones: exit 2, found ones printed', async () => {
    const r = await runStrata(['image', 'inspect', '-f', '{{.Os}}', 'app', 'nope'], { root });
    expect([r.code, r.out, r.stderr]).toEqual([2, 'linux\n', 'strata: No such image: nope\n']);
  });
  it('bad template: usage error before touching the store', async () => {
    const r = await runStrata(['image', 'inspect', '-f', '{{if}}', 'app'], { root });
    expect([r.code, r.out, r.stderr]).toEqual([2, '', 'strata: template: :1: missing value for if\n']);
  });
});
