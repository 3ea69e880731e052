// `image history` rendering against what Docker 20.10 printed for the same images
// (test-fixtures/inspect/<case>/history.json, from tools/goldens/inspect.mjs).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { imageHistory, layerUsage } from '@strata/inspect';
import { parseHuman, renderHistory } from '../src/commands/image-history';

const fixtures = new URL('../../../test-fixtures/inspect/', import.meta.url).pathname;
// legacy: Docker's legacy builder keeps intermediate images, so its lower rows have IDs where an
// image loaded from an archive (and strata) shows <missing>; its rows are checked in
// packages/inspect/test/goldens.test.ts instead.
const cases = readdirSync(fixtures).filter((d) => statSync(join(fixtures, d)).isDirectory() && d !== 'legacy');
const read = (c: string, f: string) => readFileSync(join(fixtures, c, f), 'utf8');

function rowsOf(c: string) {
  const docker = JSON.parse(read(c, 'inspect.json'))[0];
  const config = JSON.parse(read(c, 'config.json'));
  const layers: Array<{ entries: Array<{ name: string; type: string; size: number }> }> = JSON.parse(read(c, 'layers.json'));
  const sizes = layers.map((l) => layerUsage(l.entries.map((e) => ({ path: e.name, type: e.type === 'link' ? 'hardlink' : e.type === 'directory' ? 'dir' : (e.type as 'file' | 'symlink'), size: e.size }))).size);
  return imageHistory({ id: docker.Id, config, layerSizes: sizes });
}

const FLAGS: Record<string, { format?: string; trunc: boolean; human: boolean; quiet: boolean }> = {
  '--no-trunc -H=false': { trunc: false, human: false, quiet: false },
  '-H=false': { trunc: true, human: false, quiet: false },
  '-q': { trunc: true, human: true, quiet: true },
  '-q --no-trunc': { trunc: false, human: true, quiet: true },
  '--format {{.ID}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}': { format: '{{.ID}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}', trunc: true, human: true, quiet: false },
  '--no-trunc --format table {{.ID}}\t{{.Size}}': { format: 'table {{.ID}}\t{{.Size}}', trunc: false, human: true, quiet: false },
};

// The goldens were printed by Docker with TZ=UTC (CreatedAt is in the local zone).
beforeAll(() => {
  vi.stubEnv('TZ', 'UTC');
});
afterAll(() => {
  vi.unstubAllEnvs();
});

describe.each(cases)('history of %s', (c) => {
  const tables: Record<string, string> = JSON.parse(read(c, 'history.json'));
  it.each(Object.keys(FLAGS))('docker history %s', (flags) => {
    expect(renderHistory(rowsOf(c), FLAGS[flags])).toBe(tables[flags]);
  });

  it("--format json equals --format '{{json .}}' (CreatedSince aside)", () => {
    const ours = renderHistory(rowsOf(c), { format: 'json', trunc: false, human: true, quiet: false }).trim().split('\n');
    const theirs = read(c, 'history.jsonl').trim().split('\n');
    const mask = (l: string) => l.replace(/"CreatedSince":"[^"]*"/, '"CreatedSince":"…"');
    expect(ours.map(mask)).toEqual(theirs.map(mask));
    expect(ours[1] ?? '').not.toContain('<missing>'); // Go escapes it as \u003cmissing\u003e
  });

  it('the default table has Docker headers and human columns', () => {
    // "now" is pinned three weeks and an hour after the newest entry, whenever the test runs
    const rows = rowsOf(c);
    const newest = Math.max(...rows.map((r) => r.created ?? 0));
    const now = new Date((newest + 3 * 7 * 86400 + 3600) * 1000);
    const lines = renderHistory(rows, { trunc: true, human: true, quiet: false, now }).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^IMAGE {10}CREATED {4,}CREATED BY {3,}SIZE {6}COMMENT$/);
    expect(lines.slice(1).map((l) => l.split(/ {3,}/)[1])).toEqual(rows.map(() => '3 weeks ago'));
  });
});

describe('-H values', () => {
  it.each([
    [undefined, true],
    [true, true],
    ['=false', false],
    ['false', false],
    ['=true', true],
    ['0', false],
    ['busybox', undefined],
  ] as const)('%s → %s', (v, want) => expect(parseHuman(v)).toBe(want));
});
