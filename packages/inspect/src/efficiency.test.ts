import { describe, expect, it } from 'vitest';
import { efficiency } from './efficiency';
import type { TarHeader } from './tar-scan';

const file = (path: string, size: number): TarHeader => ({ path, type: 'file', size, mode: 0o644, uid: 0, gid: 0 });
const dir = (path: string): TarHeader => ({ path, type: 'directory', size: 0, mode: 0o755, uid: 0, gid: 0 });

describe('efficiency', () => {
  it('an image where no path repeats scores 1 and wastes nothing', () => {
    const r = efficiency([[dir('a/'), file('a/x', 10)], [file('a/y', 5)]]);
    expect(r).toMatchObject({ score: 1, wastedBytes: 0, totalBytes: 15, paths: [] });
  });

  it('overwritten and deleted files are wasted', () => {
    const r = efficiency([
      [file('big', 1000), file('conf', 10), dir('cache/'), file('cache/a', 100), file('cache/b', 200)],
      [file('conf', 12), file('.wh.big', 0)],
      [file('cache/.wh..wh..opq', 0), file('cache/c', 1)],
    ]);
    // big (1000) deleted, conf v1 (10) overwritten, cache/a+b (300) hidden by the opaque dir.
    expect(r.wastedBytes).toBe(1310);
    expect(r.totalBytes).toBe(1000 + 10 + 300 + 12 + 1);
    expect(r.paths.map((p) => [p.path, p.wastedBytes, p.layers])).toEqual([
      ['big', 1000, [0, 1]],
      ['conf', 10, [0, 1]],
    ]);
    // dive: Σ min / Σ cumulative = (1000 + 10 + 100 + 200 + 1) / (2000 + 22 + 100 + 200 + 1)
    expect(r.score).toBeCloseTo(1311 / 2323, 6);
  });

  it('deleting a directory hides everything below it', () => {
    const r = efficiency([[dir('d/'), file('d/x', 7), file('d/e/y', 3)], [file('.wh.d', 0)]]);
    expect(r.wastedBytes).toBe(10);
    expect(r.paths).toEqual([]);
  });
});
