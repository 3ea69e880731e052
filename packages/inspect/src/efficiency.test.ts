import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { efficiency, type EfficiencyEntry } from './efficiency';

const file = (path: string, size: number): EfficiencyEntry => ({ path, type: 'file', size });
const dir = (path: string): EfficiencyEntry => ({ path, type: 'dir', size: 0 });
const wh = (path: string): EfficiencyEntry => ({ path, type: 'file', size: 0 });

describe('efficiency (dive filetree/efficiency_test.go cases)', () => {
  it('TestEfficiency: 0.75, one inefficient path of 7000 bytes', () => {
    // dive's test adds files without directory entries: /etc/nginx is an implied node (not a
    // directory payload), so its whiteout counts 0.
    const r = efficiency([
      [file('etc/nginx/nginx.conf', 2000), file('etc/nginx/public', 3000)],
      [file('etc/nginx/nginx.conf', 5000), file('etc/athing', 10000)],
      [wh('etc/.wh.nginx')],
    ]);
    expect(r.efficiency).toBe(0.75);
    expect(r.inefficiencies.map((p) => [p.file, p.sizeBytes])).toEqual([['/etc/nginx/nginx.conf', 7000]]);
  });

  it('TestEfficiency_ScratchImage: 1 and nothing inefficient', () => {
    const r = efficiency([[file('nothing', 0)], [], []]);
    expect(r.efficiency).toBe(1);
    expect(r.inefficiencies).toEqual([]);
  });
});

describe('efficiency (dive semantics)', () => {
  it('a deleted file counts 0, a deleted directory the bytes below it', () => {
    const r = efficiency([
      [dir('d'), file('d/x', 7), dir('d/e'), file('d/e/y', 3), file('f', 100)],
      [wh('.wh.d'), wh('.wh.f')],
    ]);
    // d: one node of 10 bytes (min = cumulative); f: 100 then 0.
    expect(r.efficiency).toBe((7 + 3 + 10 + 0) / (7 + 3 + 10 + 100));
    expect(r.wastedBytes).toBe(100);
    expect(r.reclaimableBytes).toBe(100);
    expect(r.inefficiencies[0]).toMatchObject({ file: '/f', count: 2, sizeBytes: 100, layers: [{ layer: 0, action: 'added', sizeBytes: 100 }, { layer: 1, action: 'deleted', sizeBytes: 0 }] });
    expect(r.inefficiencies[0].why).toMatch(/deleted in layer 1/);
  });

  it('opaque markers are ignored; sizes and user size follow the tar entries', () => {
    const r = efficiency([
      [dir('c'), file('c/a', 100), file('c/b', 200)],
      [dir('c'), wh('c/.wh..wh..opq'), file('c/n', 1), file('big', 50)],
    ]);
    expect(r.sizeBytes).toBe(351);
    expect(r.userSizeBytes).toBe(51);
    expect(r.wastedBytes).toBe(0);
    expect(r.efficiency).toBe(1);
  });

  it('overwrites: wasted is every copy, reclaimable is cumulative − min; dive order largest first', () => {
    const r = efficiency([[file('a', 10), file('b', 5)], [file('a', 30), file('b', 5)], [file('b', 5)]]);
    expect(r.wastedBytes).toBe(40 + 15);
    expect(r.reclaimableBytes).toBe(30 + 10);
    expect(r.inefficiencies.map((p) => [p.file, p.count])).toEqual([['/a', 2], ['/b', 3]]);
    expect(r.wastedUserPercent).toBe(55 / 40);
  });

  it('a whiteout of nothing below stops the rest of that layer, as dive does', () => {
    const r = efficiency([[file('z', 10)], [wh('.wh.m'), file('a', 1), file('z', 10)]]);
    // layer 1 in dive order: .wh.m fails before z is visited; a (sorted before .wh.m? no: '.' < 'a')
    // so only the missing path is recorded, with min -1.
    expect(r.efficiency).toBe((10 - 1) / 10);
    expect(r.wastedBytes).toBe(0);
  });

  it('--exclude leaves paths out of the per-path figures', () => {
    const r = efficiency([[file('cache/x', 100), file('k', 1)], [file('cache/x', 100), file('k', 2)]], { exclude: (p) => p.startsWith('cache') });
    expect(r.wastedBytes).toBe(3);
    expect(r.sizeBytes).toBe(203);
  });
});

describe("dive's own test image (image_archive_analysis_test.go expectations)", () => {
  // test-fixtures/efficiency/dive-test-image: the tar entries of dive's .data/test-docker-image.tar.
  const fixture = JSON.parse(readFileSync(new URL('../../../test-fixtures/efficiency/dive-test-image/layers.json', import.meta.url), 'utf8')) as {
    expected: { efficiency: number; sizeBytes: number; userSizeBytes: number; wastedBytes: number; wastedUserPercent: number; fileReference: Array<[number, number, string]> };
    layers: Array<Array<[string, EfficiencyEntry['type'], number]>>;
  };
  it('the five numbers and the inefficient files, exactly', () => {
    const r = efficiency(fixture.layers.map((l) => l.map(([path, type, size]) => ({ path: path.replace(/\/$/, ''), type, size }))));
    const e = fixture.expected;
    expect([r.efficiency, r.sizeBytes, r.userSizeBytes, r.wastedBytes, r.wastedUserPercent]).toEqual([e.efficiency, e.sizeBytes, e.userSizeBytes, e.wastedBytes, e.wastedUserPercent]);
    expect(r.inefficiencies.map((p) => [p.count, p.sizeBytes, p.file])).toEqual(e.fileReference);
  });
});
