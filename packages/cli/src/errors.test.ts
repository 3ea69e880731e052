import { describe, expect, it } from 'vitest';
import { StrataError } from '@strata/errors';
import { formatError } from './errors';

describe('formatError', () => {
  // found by tools/reliability fuzzing: a .dockerignore pattern, a reference and a manifest's
  // first bytes quoted in a message reached the terminal as escape sequences
  it.each([
    ['an escape sequence from a .dockerignore pattern', '.dockerignore:1: bad pattern "\u001b[31m**": syntax error in pattern', '\\x1b[31m**'],
    ['a NUL in a reference', 'invalid reference "\u0000": bad path component "\u0000"', '"\\x00"'],
    ['C1 and DEL from a body', 'HTTP 502: \u009b2J\u007f', '\\x9b2J\\x7f'],
  ])('shows control characters escaped: %s', (_what, message, shown) => {
    const out = formatError(new StrataError('INVALID_ARCHIVE', message, { hint: 'try \u001b]0;x\u0007' }));
    expect(out).toContain(shown);
    expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(out.split('\n')).toHaveLength(3);
    expect(formatError(new StrataError('INVALID_ARCHIVE', message), { json: true })).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  });

  it('keeps a message one line', () => {
    expect(formatError(new StrataError('REGISTRY_ERROR', 'a\r\n  b\nc\rd'))).toBe('strata: a b c\\x0dd\n');
  });
});
