import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createDirectiveParser, detectSyntax, findDirective, type FoundDirective } from '../src/directives';
import type { Directive } from '../src/types';

/**
 * The facts of BuildKit's parser/directives_test.go (TestDirectives, TestDetectSyntax,
 * TestDetectSyntaxBOM, TestParseDirective), kept as data in
 * test-fixtures/dockerfile/buildkit/parser/directives.json and run against strata.
 * A `found` without `cmdline` or `line` leaves that field unchecked, as upstream does.
 */
type Found = Partial<FoundDirective> | null;
const data = JSON.parse(readFileSync(new URL('../../../test-fixtures/dockerfile/buildkit/parser/directives.json', import.meta.url), 'utf8')) as {
  parseAll: Array<{ text: string; directives: Array<Pick<Directive, 'name' | 'value'>> }>;
  detectSyntax: Array<{ text: string; found: Found }>;
  parseDirectiveCheck: Array<{ text: string; found: Found }>;
};

function expectFound(got: FoundDirective | undefined, want: Found): void {
  if (want === null) expect(got).toBeUndefined();
  else expect(got).toMatchObject(want);
}

describe('BuildKit TestDirectives (DirectiveParser.ParseAll)', () => {
  it.each(data.parseAll.map((c) => [c.text, c.directives] as const))('%j', (text, want) => {
    const parser = createDirectiveParser();
    const got: Directive[] = [];
    for (const line of text.split('\n')) {
      const d = parser.parseLine(line);
      if (d) got.push(d);
    }
    expect(got.map(({ name, value }) => ({ name, value }))).toEqual(want);
  });
});

describe('BuildKit TestDetectSyntax, TestDetectSyntaxBOM', () => {
  it.each(data.detectSyntax.map((c) => [c.text, c.found] as const))('%j', (text, want) => expectFound(detectSyntax(text), want));
});

describe('BuildKit TestParseDirective (check)', () => {
  it.each(data.parseDirectiveCheck.map((c) => [c.text, c.found] as const))('%j', (text, want) => expectFound(findDirective('check', text), want));
});
