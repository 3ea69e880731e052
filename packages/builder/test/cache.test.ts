import { afterAll, describe, expect, it } from 'vitest';
import { appendFileSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTempDirs, tempDir, writeTree } from '@strata/testing';
import { openStore } from '@strata/image-store';
import { unionView } from '@strata/unionfs';
import { build, type BuildOptions } from '../src';

afterAll(() => cleanupTempDirs());

const DOCKERFILE = `FROM scratch
ARG DEST=/data
ENV A=1
COPY a.txt /a/
COPY big /big
COPY c.txt $DEST/
LABEL done=yes
`;

async function setup(more: Record<string, string> = {}) {
  const dir = tempDir();
  const ctx = writeTree(join(dir, 'ctx'), {
    Dockerfile: DOCKERFILE,
    'a.txt': 'a\n',
    'big/one': '1\n',
    'big/two': '2\n',
    'big/sub/three': '3\n',
    'c.txt': 'c\n',
    ...more,
  });
  const store = await openStore(join(dir, 'root'));
  const run = async (extra: Partial<BuildOptions> = {}) => {
    const r = await build({ store, contextDir: ctx, tags: ['cache-test:1'], ...extra });
    return { id: r.id, cached: r.steps.map((s) => s.cached), names: r.steps.map((s) => s.name), filesRead: r.contextFilesRead };
  };
  return { ctx, store, run };
}

describe('layer cache', () => {
  it('unchanged rebuild: every step cached and the same image ID', async () => {
    const { run } = await setup();
    const first = await run();
    expect(first.cached.slice(1).every((c) => !c)).toBe(true);
    const second = await run();
    expect(second.cached.slice(1)).toEqual(second.cached.slice(1).map(() => true));
    expect(second.id).toBe(first.id);
  });

  it('a hit reads no source once stat data are safely old (racy window passed)', async () => {
    const { run } = await setup();
    const first = await run();
    expect(first.filesRead).toBeGreaterThan(0);
    // Files written less than 2 s before they were hashed are hashed again (same size and mtime
    // could hide a change); once that window has passed, stat data alone answer.
    await new Promise((r) => setTimeout(r, 2100));
    await run();
    const third = await run();
    expect(third.cached.slice(1).every(Boolean)).toBe(true);
    expect(third.filesRead).toBe(0);
  });

  it('touching a source (mtime only) keeps it cached', async () => {
    const { ctx, run } = await setup();
    const first = await run();
    const t = new Date('2024-01-01T00:00:00Z');
    utimesSync(join(ctx, 'big/one'), t, t);
    utimesSync(join(ctx, 'a.txt'), t, t);
    const second = await run();
    expect(second.cached.slice(1).every(Boolean)).toBe(true);
    expect(second.id).toBe(first.id);
  });

  it('one byte changed: that COPY and later steps rebuilt, earlier ones cached', async () => {
    const { ctx, run } = await setup();
    const first = await run();
    appendFileSync(join(ctx, 'big/sub/three'), 'x');
    const second = await run();
    // steps: FROM, ARG, ENV, COPY a.txt, COPY big, COPY c.txt, LABEL
    expect(second.cached.slice(1)).toEqual([true, true, true, false, false, false]);
    expect(second.id).not.toBe(first.id);
    // and back: the old content is still in the cache
    writeFileSync(join(ctx, 'big/sub/three'), '3\n');
    const third = await run();
    expect(third.cached.slice(1).every(Boolean)).toBe(true);
    expect(third.id).toBe(first.id);
  });

  it('a COPY of a symlink to a file follows it: changing the target invalidates, fresh and from the stat fingerprint', async () => {
    const dir = tempDir();
    const ctx = writeTree(join(dir, 'ctx'), { Dockerfile: 'FROM scratch\nCOPY link /x\n', file: 'one\n', link: { symlink: 'file' } });
    const old = new Date('2024-01-01T00:00:00Z'); // past the racy window on any clock
    for (const f of ['file', 'Dockerfile']) utimesSync(join(ctx, f), old, old);
    const store = await openStore(join(dir, 'root'));
    const run = async () => {
      const r = await build({ store, contextDir: ctx, tags: ['link:1'] });
      return { id: r.id, cached: r.steps[1].cached };
    };
    const first = await run();
    expect((await run()).cached).toBe(true); // the stat fingerprint alias answers
    writeFileSync(join(ctx, 'file'), 'two!\n');
    utimesSync(join(ctx, 'file'), old, old);
    const second = await run();
    expect(second.cached).toBe(false);
    expect(second.id).not.toBe(first.id);
    const [layer] = await (await store.image(second.id)).image.layers();
    const view = await unionView([{ path: store.blobs.path(await layer.digest()) }]);
    const chunks: Buffer[] = [];
    for await (const c of await view.read('x')) chunks.push(Buffer.from(c));
    expect(Buffer.concat(chunks).toString()).toBe('two!\n');
  });

  it('files added to and removed from a directory are seen once listings are cached', async () => {
    // a context large enough to matter, listed from the walk cache from the second build on
    const files: Record<string, string> = {};
    for (let i = 0; i < 2600; i++) files[`big/many/d${i % 13}/f${i}`] = `${i}\n`;
    const { ctx, run, store } = await setup(files);
    // directory listings are trusted once the directories are 2 s older than the listing
    await new Promise((r) => setTimeout(r, 2100));
    const first = await run();
    const second = await run();
    expect(second.cached.slice(1).every(Boolean)).toBe(true);
    const names = async (id: string) => {
      const img = (await store.image(id)).image;
      const layers = await img.layers();
      const view = await unionView(await Promise.all(layers.map(async (l) => ({ path: store.blobs.path(await l.digest()) }))));
      return [...view.entries()].map((e) => e.path);
    };
    writeFileSync(join(ctx, 'big/many/d3/added'), 'new\n');
    const added = await run();
    expect(added.cached.slice(1)).toEqual([true, true, true, false, false, false]);
    expect(await names(added.id)).toContain('big/many/d3/added');
    expect((await run()).id).toBe(added.id);
    unlinkSync(join(ctx, 'big/many/d3/added'));
    unlinkSync(join(ctx, 'big/many/d5/f5'));
    const removed = await run();
    expect(removed.cached.slice(1)).toEqual([true, true, true, false, false, false]);
    const after = await names(removed.id);
    expect(after).not.toContain('big/many/d3/added');
    expect(after).not.toContain('big/many/d5/f5');
    expect(after).toContain('big/many/d5/f18');
    expect(removed.id).not.toBe(first.id);
  });

  it('a mode change invalidates (content digests include the mode)', async () => {
    const { ctx, run } = await setup();
    await run();
    const { chmodSync } = await import('node:fs');
    chmodSync(join(ctx, 'c.txt'), 0o600);
    const second = await run();
    expect(second.cached.slice(1)).toEqual([true, true, true, true, false, false]);
  });

  it('a changed --build-arg used by a step invalidates from that step', async () => {
    const { run } = await setup();
    await run({ buildArgs: { DEST: '/one' } });
    const same = await run({ buildArgs: { DEST: '/one' } });
    expect(same.cached.slice(1).every(Boolean)).toBe(true);
    const changed = await run({ buildArgs: { DEST: '/two' } });
    // ARG's own history text is the same (`ARG DEST=/data`), COPY c.txt $DEST/ is not
    expect(changed.cached.slice(1)).toEqual([true, true, true, true, false, false]);
  });

  it('--no-cache runs every step', async () => {
    const { run } = await setup();
    await run();
    const again = await run({ noCache: true });
    expect(again.cached.slice(1).some(Boolean)).toBe(false);
  });

  it('SOURCE_DATE_EPOCH: two clean builds give the same image digest', async () => {
    const a = await setup();
    const b = await setup();
    const ra = await a.run({ sourceDateEpoch: 1_700_000_000 });
    await new Promise((r) => setTimeout(r, 1100));
    const rb = await b.run({ sourceDateEpoch: 1_700_000_000 });
    const cfg = await (await a.store.image(ra.id)).image.config();
    expect(cfg.created).toBe('2023-11-14T22:13:20Z');
    expect(cfg.history!.every((h) => h.created === '2023-11-14T22:13:20Z')).toBe(true);
    // the contexts were written at different times: only the clamp makes the layers equal
    expect(rb.id).toBe(ra.id);
  });
});
