// Inputs the reliability fuzzing (tools/reliability, issue 18) found mishandled, kept as they failed.
import { describe, expect, it } from 'vitest';
import { StrataError } from '@strata/errors';
import { parseImageConfig, parseIndex, parseManifest } from './index';

const config = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${'1'.repeat(64)}`] } };

function failure(fn: () => unknown): StrataError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StrataError);
    expect((err as StrataError).message).not.toMatch(/[\r\n]/);
    return err as StrataError;
  }
  throw new Error('did not fail');
}

describe('oci JSON found by fuzzing', () => {
  it.each([null, 1, 'x'])('a history entry of %j is INVALID_MANIFEST', (entry) => {
    expect(failure(() => parseImageConfig(JSON.stringify({ ...config, history: [entry] }))).code).toBe('INVALID_MANIFEST');
  });

  it.each([parseManifest, parseIndex, parseImageConfig])('text that is not JSON fails on one line (%o)', (parse) => {
    expect(failure(() => parse('\u0000\n{"a":\n1')).message).toMatch(/not JSON/);
  });
});
