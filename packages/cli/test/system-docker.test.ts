// Issue #17: `system df` and `image prune --filter` against Docker 20.10 for the same set of
// images (built with Docker, saved, loaded into strata). Docker prunes for real, so every Docker
// prune is confined to this test's images by an extra `label=strata-it-prune` filter (moby ANDs
// filters) and the set is loaded back from the archive after each one; strata answers the same
// question with --dry-run.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { humanSize } from '@strata/inspect';
import { cleanupTempDirs, docker, dockerOk, ensureDockerBusybox, peerAvailable, runStrata, tempDir } from '@strata/testing';
import { writeFileSync, mkdirSync } from 'node:fs';

const NAMES = ['a', 'b', 'c'];
const LABELS: Record<string, string> = { a: 'tier=a', b: 'tier=b keep=yes', c: 'tier=c' };
const ref = (n: string) => `strata-it-prune/${n}:1`;

describe.skipIf(!peerAvailable('docker'))('system df and image prune filters vs Docker', () => {
  let dir = '';
  let root = '';
  let archive = '';
  let until = 0;

  const build = async (n: string, noCache: boolean) => {
    const ctx = join(dir, n);
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), `FROM strata-test/busybox:latest\nLABEL strata-it-prune=1 ${LABELS[n]}\nRUN echo ${n} > /${n}\n`);
    await dockerOk(['build', '-q', ...(noCache ? ['--no-cache'] : []), '-t', ref(n), ctx]);
  };

  beforeAll(async () => {
    ensureDockerBusybox();
    dir = await tempDir();
    await build('a', false);
    await build('b', false);
    const created = JSON.parse((await dockerOk(['image', 'inspect', ref('a'), ref('b')])).out).map((i: { Created: string }) => Date.parse(i.Created));
    until = Math.floor(Math.max(...created) / 1000) + 1;
    while (Date.now() / 1000 < until + 1) await new Promise((r) => setTimeout(r, 200));
    await build('c', true);
    archive = join(dir, 'set.tar');
    await dockerOk(['save', '-o', archive, ...NAMES.map(ref)]);
    root = join(dir, 'store');
    expect((await runStrata(['image', 'load', '-i', archive], { root })).code).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await docker(['rmi', ...NAMES.map(ref)]);
    await cleanupTempDirs();
  });

  it("system df: Docker's Images row for this set, its table layout and --format json", async () => {
    // Docker's figures for the set, from Docker's own per-layer sizes (docker history).
    const layerSize = new Map<string, number>();
    for (const n of NAMES) {
      const layers: string[] = JSON.parse((await dockerOk(['image', 'inspect', ref(n)])).out)[0].RootFS.Layers;
      const sizes = (await dockerOk(['history', '-H=false', '--no-trunc', '--format', '{{.Size}}\t{{.CreatedBy}}', ref(n)])).out.trim().split('\n').reverse();
      const hist = JSON.parse((await dockerOk(['image', 'inspect', '--format', '{{json .}}', ref(n)])).out);
      expect(hist.RootFS.Layers).toEqual(layers);
      // non-empty history rows are the layers, in order (an image of ours has no empty RUN)
      const rows = sizes.map((l) => l.split('\t')).filter((r) => !/^\/bin\/sh -c #\(nop\)|^LABEL|^CMD/.test(r[1] ?? ''));
      rows.slice(-layers.length).forEach((r, i) => layerSize.set(layers[i], Number(r[0])));
    }
    const total = [...layerSize.values()].reduce((a, b) => a + b, 0);
    const json = await runStrata(['--format', 'json', 'system', 'df'], { root });
    const rows = json.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows[0]).toEqual({ Active: '0', Reclaimable: `${humanSize(total, 4)} (100%)`, Size: humanSize(total, 4), TotalCount: '3', Type: 'Images' });
    expect(rows.map((r) => r.Type)).toEqual(['Images', 'Containers', 'Local Volumes', 'Build Cache']);
    // the same keys and value types as Docker's own rows
    const theirs = (await dockerOk(['system', 'df', '--format', '{{json .}}'])).out.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => Object.keys(r))).toEqual(theirs.map((r) => Object.keys(r)));
    const table = await runStrata(['system', 'df'], { root });
    expect(table.out.split('\n')[0]).toBe((await dockerOk(['system', 'df'])).out.split('\n')[0]);
    expect(table.out.split('\n')[1]).toMatch(/^Images {10}3 {9}0 {9}\S+ +\S+ \(100%\)$/);
  });

  const cases: string[][] = [[`until=${0}`], ['label=tier=a'], ['label!=keep'], ['label!=keep=yes', 'label!=tier=b'], ['label!=keep=yes', 'label!=tier=c'], ['label=tier'], ['label=tier', 'label=keep']];

  // how many of a, b, c each case picks (so an empty answer on both sides cannot pass unnoticed)
  const COUNTS = [2, 1, 2, 2, 3, 3, 1];

  it.each(cases.map((c, i) => [i, c]))('image prune -a --filter case %i chooses as Docker does', async (i, filters) => {
    const f = (filters as string[]).map((x) => (x === 'until=0' ? `until=${until}` : x));
    const s = await runStrata(['--format', 'json', 'image', 'prune', '-a', '--dry-run', '--filter', 'label=strata-it-prune', ...f.flatMap((x) => ['--filter', x])], { root });
    const ours = s.out.trim() ? s.out.trim().split('\n').flatMap((l) => JSON.parse(l).Tags).sort() : [];
    const d = await dockerOk(['image', 'prune', '-a', '-f', '--filter', 'label=strata-it-prune', ...f.flatMap((x) => ['--filter', x])]);
    const theirs = [...d.out.matchAll(/^untagged: (\S+)$/gm)].map((m) => `docker.io/${m[1]}`).sort();
    await dockerOk(['load', '-i', archive]);
    expect(ours).toEqual(theirs);
    expect(theirs.length).toBe(COUNTS[i as number]);
  });
});
