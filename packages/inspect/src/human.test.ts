import { afterEach, describe, expect, it, vi } from 'vitest';
import { humanDuration, humanSize, rfc3339Local } from './human';

describe('humanSize (go-units HumanSizeWithPrecision 3)', () => {
  it.each([
    [0, '0B'],
    [6, '6B'],
    [999, '999B'],
    [1000, '1kB'],
    [307200, '307kB'],
    [1982676, '1.98MB'],
    [999_999, '1e+03kB'],
    [1_500_000_000, '1.5GB'],
  ])('%d → %s', (n, s) => expect(humanSize(n)).toBe(s));
});

describe('humanDuration (go-units)', () => {
  const s = 1000;
  it.each([
    [500, 'Less than a second'],
    [1 * s, '1 second'],
    [59.9 * s, '59 seconds'],
    [60 * s, 'About a minute'],
    [119 * s, 'About a minute'],
    [120 * s, '2 minutes'],
    [59 * 60 * s, '59 minutes'],
    [89 * 60 * s, 'About an hour'],
    [47 * 3600 * s, '47 hours'],
    [48 * 3600 * s, '2 days'],
    [13 * 86400 * s, '13 days'],
    [14 * 86400 * s, '2 weeks'],
    [60 * 86400 * s, '2 months'],
    [800 * 86400 * s, '2 years'],
  ])('%d ms → %s', (ms, want) => expect(humanDuration(ms)).toBe(want));
});

// The local zone is pinned per test (node applies a TZ assignment at once).
afterEach(() => {
  vi.unstubAllEnvs();
});

describe('rfc3339Local', () => {
  it('formats in the local zone like Go', () => {
    vi.stubEnv('TZ', 'UTC');
    expect(rfc3339Local(1_700_000_000)).toBe('2023-11-14T22:13:20Z');
    vi.stubEnv('TZ', 'Pacific/Kiritimati');
    expect(rfc3339Local(1_700_000_000)).toBe('2023-11-15T12:13:20+14:00');
    vi.stubEnv('TZ', 'America/St_Johns');
    expect(rfc3339Local(1_700_000_000)).toBe('2023-11-14T18:43:20-03:30');
  });
});

describe('history view', () => {
  it('an entry without a date is Go zero time, 292 years ago', async () => {
    const { historyView } = await import('./history-view');
    vi.stubEnv('TZ', 'UTC');
    const [v] = historyView([{ id: 'sha256:' + 'a'.repeat(64), createdBy: 'x\ty', size: 1500, comment: '', emptyLayer: false, tags: [] }], { now: new Date('2026-12-02T00:00:00Z') });
    expect(v).toEqual({ Comment: '', CreatedAt: '0001-01-01T00:00:00Z', CreatedBy: 'x y', CreatedSince: '292 years ago', ID: 'aaaaaaaaaaaa', Size: '1.5kB' });
  });
});
