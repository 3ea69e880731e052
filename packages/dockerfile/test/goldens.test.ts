import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { goldenOf } from '../src/golden';

/**
 * Regression goldens: expected.json / error.txt were written by strata's own parser
 * (tools/goldens/dockerfile.mjs) and checked by hand, so they only keep the parser from
 * drifting. The independent check is BuildKit's own test data, run by buildkit-*.test.ts
 * (test-fixtures/dockerfile/buildkit/).
 */
const fixtures = fileURLToPath(new URL('../../../test-fixtures/dockerfile', import.meta.url));
const cases = readdirSync(fixtures).filter((n) => existsSync(join(fixtures, n, 'Dockerfile'))).sort();

describe('dockerfile goldens', () => {
  it('has at least 60 cases, 15 of them negative', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
    expect(cases.filter((c) => existsSync(join(fixtures, c, 'error.txt'))).length).toBeGreaterThanOrEqual(15);
  });
  it.each(cases)('%s', (name) => {
    const text = readFileSync(join(fixtures, name, 'Dockerfile'), 'utf8');
    const got = goldenOf(text);
    const errorFile = join(fixtures, name, 'error.txt');
    if (existsSync(errorFile)) {
      expect(got).toEqual({ error: readFileSync(errorFile, 'utf8').trimEnd() });
      expect(readFileSync(errorFile, 'utf8').trimEnd()).toMatch(/^Dockerfile:\d+: /);
    } else {
      const expected = JSON.parse(readFileSync(join(fixtures, name, 'expected.json'), 'utf8'));
      expect(JSON.parse(JSON.stringify(got))).toEqual({ expected });
    }
  });
});
