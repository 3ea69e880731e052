import { describe, expect, it } from 'vitest';
import { isStrataError } from '@strata/errors';
import { clockOf } from './clock';

describe('clockOf (STRATA_NOW)', () => {
  it('pins now to an RFC 3339 time with a zone, or Unix seconds', () => {
    expect(clockOf({ STRATA_NOW: '2024-05-30T07:08:09Z' })().toISOString()).toBe('2024-05-30T07:08:09.000Z');
    expect(clockOf({ STRATA_NOW: '2024-05-30T09:08:09+02:00' })().toISOString()).toBe('2024-05-30T07:08:09.000Z');
    expect(clockOf({ STRATA_NOW: '1717052889.5' })().toISOString()).toBe('2024-05-30T07:08:09.500Z');
  });

  it('refuses a time without a zone (it would depend on TZ) and anything else', () => {
    for (const bad of ['2024-05-30T07:08:09', '2024-05-30', 'yesterday']) {
      let err: unknown;
      try {
        clockOf({ STRATA_NOW: bad });
      } catch (e) {
        err = e;
      }
      expect(isStrataError(err, 'USAGE'), bad).toBe(true);
    }
  });

  it('is the system clock without it', () => {
    const before = Date.now();
    const now = clockOf({})().getTime();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});
