import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTar } from '@strata/tar';
import { cleanupTempDirs, tempDir } from '@strata/testing';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { imageModel } from './image-model';
import { renderTreemapSvg } from './treemap';
import { renderHtmlReport } from './html-report';

afterAll(() => cleanupTempDirs());

type E = { path: string; type: 'file' | 'dir'; size?: number };
async function layerTar(dir: string, name: string, entries: E[]): Promise<string> {
  const path = join(dir, name);
  const tar = writeTar(entries.map((e) => (e.type === 'dir' ? { path: e.path, type: 'dir' as const, mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 } : { path: e.path, type: 'file' as const, mode: 0o644, uid: 0, gid: 0, size: e.size!, mtime: 0, data: Buffer.alloc(e.size!) })));
  await pipeline(Readable.from(tar), createWriteStream(path));
  return path;
}

describe('treemap', () => {
  it("rectangle areas equal the files' bytes within 1% (parsed from the SVG); hidden versions hatched", async () => {
    const dir = await tempDir();
    const sizes = [50_000, 20_000, 9_000, 7_000, 3_000, 1_500, 700, 300, 120, 40];
    const l0 = await layerTar(dir, 'l0.tar', [{ path: 'a', type: 'dir' }, ...sizes.map((s, i) => ({ path: `a/f${i}`, type: 'file' as const, size: s })), { path: 'big', type: 'file', size: 100_000 }]);
    const l1 = await layerTar(dir, 'l1.tar', [{ path: 'a', type: 'dir' }, { path: 'a/f0', type: 'file', size: 10_000 }, { path: '.wh.big', type: 'file', size: 0 }]);
    const model = await imageModel({
      name: 't',
      id: 'sha256:0',
      config: { history: [{ created_by: 'ADD a' }, { created_by: 'RUN rm /big' }] },
      layers: [
        { diffId: 'sha256:1', source: { path: l0 } },
        { diffId: 'sha256:2', source: { path: l1 } },
      ],
    });
    const svg = renderTreemapSvg(model, { width: 800, height: 500 });
    const groups = [...svg.matchAll(/<g class="file( wasted)?" data-bytes="(\d+)" data-layer="(\d+)">[\s\S]*?<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)];
    const total = groups.reduce((a, g) => a + Number(g[2]), 0);
    expect(total).toBe(sizes.reduce((a, b) => a + b, 0) + 100_000 + 10_000);
    for (const g of groups) {
      const area = Number(g[6]) * Number(g[7]);
      const want = (Number(g[2]) / total) * 800 * 500;
      expect(Math.abs(area - want) / want).toBeLessThan(0.01);
    }
    // the overwritten a/f0 of layer 0 and the deleted /big are hatched; the new a/f0 is not
    const hatched = groups.filter((g) => g[1]).map((g) => [Number(g[2]), Number(g[3])]);
    expect(hatched.sort()).toEqual([[100000, 0], [50000, 0]]);
    const html = renderHtmlReport(model);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect(html).toContain('RUN rm /big');
  });
});
