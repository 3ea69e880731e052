import fc from 'fast-check';
import { isStrataError } from '@strata/errors';
import { describe, expect, it } from 'vitest';
import { createLexer, dockerfileErrorLine, parseDockerfile } from '../src/index';

// Bad input must end in a one-line DOCKERFILE_SYNTAX error with a line, never a crash.
const FRAGMENTS = [
  'FROM', 'scratch', 'AS', 'RUN', 'COPY', 'ADD', 'ENV', 'ARG', 'LABEL', 'ONBUILD', 'HEALTHCHECK', 'CMD',
  'SHELL', 'EXPOSE', 'WORKDIR', '--mount=type=cache,target=/x', '--from=a', '--link', '--chown=', '--',
  '<<EOF', '<<-"E"', 'EOF', '\\', '`', '#', '# escape=`', '# check=skip=all', '[', ']', '["a",', '"x"', "'y'",
  '$A', '${A:-b}', '${', '=', 'k=v', ' ', '\t', '\n', '\r\n',
];

describe('robustness', () => {
  it('parseDockerfile returns or throws DOCKERFILE_SYNTAX with a line', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 40 }), (parts) => {
        const text = parts.join(' ').replace(/ ?\n ?/g, '\n');
        try {
          parseDockerfile(text);
        } catch (err) {
          expect(isStrataError(err, 'DOCKERFILE_SYNTAX')).toBe(true);
          expect(dockerfileErrorLine(err)).toBeDefined();
          expect((err as Error).message).toMatch(/^Dockerfile:\d+: [^\n]*$/s);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('the lexer returns or throws DOCKERFILE_SYNTAX on any string', () => {
    const lex = createLexer();
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('$', '{', '}', ':', '-', '+', '?', '#', '%', '/', '\\', "'", '"', 'A', 'b', ' ', '*') }), (s) => {
        try {
          lex.processWords(s, { A: 'x y', b: '' });
        } catch (err) {
          expect(isStrataError(err, 'DOCKERFILE_SYNTAX')).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

// found by tools/reliability fuzzing: the reason quoted a newline of the word raw
describe('lexer errors found by fuzzing', () => {
  it.each(['${\nA:-${b:+x}}', '${A\r}'])('%j fails on one line', (word) => {
    const lex = createLexer({ escape: '\\' });
    expect(() => lex.processWordWithMatches(word, { A: 'x' })).toThrow(/^failed to process "[^\r\n]*": [^\r\n]*$/);
  });
});
