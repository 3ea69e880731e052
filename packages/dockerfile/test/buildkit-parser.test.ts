import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from '../src/parse';
import { dumpAst } from './buildkit-dump';

/**
 * BuildKit's own parser test data, run against strata's parser: these are the real check of the
 * parser (the folders beside them in test-fixtures/dockerfile are regression goldens that
 * strata's parser wrote itself, see tools/goldens/dockerfile.mjs). Data and upstream commit:
 * test-fixtures/dockerfile/buildkit/README.md.
 */
const data = fileURLToPath(new URL('../../../test-fixtures/dockerfile/buildkit/parser', import.meta.url));
const casesIn = (dir: string): string[] => readdirSync(join(data, dir)).sort();
const read = (...p: string[]): string => readFileSync(join(data, ...p), 'utf8');

describe('BuildKit parser/testfiles: Dump() of the AST equals result', () => {
  const cases = casesIn('testfiles');
  it('has all 33 upstream cases', () => expect(cases).toHaveLength(33));
  it.each(cases)('%s', (name) => {
    const { ast } = parse(read('testfiles', name, 'Dockerfile'));
    expect(dumpAst(ast) + '\n').toBe(read('testfiles', name, 'result'));
  });
});

describe('BuildKit parser/testfiles-negative: parsing fails', () => {
  const cases = casesIn('testfiles-negative');
  it('has all 4 upstream cases', () => expect(cases).toHaveLength(4));
  it.each(cases)('%s', (name) => {
    expect(() => parse(read('testfiles-negative', name, 'Dockerfile'))).toThrow(/^Dockerfile:\d+: /);
  });
});

describe('BuildKit parser/testfile-line: line ranges', () => {
  it('matches TestParseIncludesLineNumbers', () => {
    const { ast } = parse(read('testfile-line', 'Dockerfile'));
    expect(ast.children.map((n) => [n.range.start, n.range.end])).toEqual([
      [5, 5],
      [11, 12],
      [17, 31],
    ]);
  });
});
