import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chompHeredoc } from '../src/heredoc';
import { findHeredocs, parseHeredocWord } from '../src/heredoc-word';
import { parse } from '../src/parse';
import type { Heredoc } from '../src/types';

/**
 * The facts of BuildKit's parser/parser_heredoc_test.go, kept as data in
 * test-fixtures/dockerfile/buildkit/parser/heredoc/ (see its README), run against strata.
 */
const dir = new URL('../../../test-fixtures/dockerfile/buildkit/parser/heredoc/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, dir), 'utf8');
const extracted = JSON.parse(read('heredocs.json')) as { instructions: Array<{ line: string; heredocs: Heredoc[] }> };
const words = JSON.parse(read('words.json')) as {
  parseHeredoc: { valid: string[]; invalid: string[]; notHeredoc: string[] };
  heredocsFromLine: Array<{ line: string; names: string[] }>;
  jsonForm: { dockerfile: string; noHeredocs: number[] };
  chomp: { content: string; chomped: string };
};

describe('BuildKit TestParseExtractsHeredoc', () => {
  const { ast } = parse(read('Dockerfile'));
  it('has one instruction per expected row after FROM', () => {
    expect(ast.children.map((n) => n.original)).toEqual(['FROM alpine:3.6', ...extracted.instructions.map((r) => r.line)]);
  });
  it.each(extracted.instructions.map((r, i) => [r.line, i + 1, r.heredocs] as const))('%s', (_, index, heredocs) => {
    expect(ast.children[index]!.heredocs).toEqual(heredocs);
  });
});

describe('BuildKit TestParseJSONHeredoc', () => {
  it('exec form never has heredocs', () => {
    const { ast } = parse(words.jsonForm.dockerfile);
    for (const i of words.jsonForm.noHeredocs) expect(ast.children[i]!.heredocs).toEqual([]);
  });
});

describe('BuildKit TestParseHeredocHelpers (ParseHeredoc on one word)', () => {
  it.each(words.parseHeredoc.valid)('%s is a heredoc named EOF', (w) => {
    expect(parseHeredocWord(w)?.name).toBe('EOF');
  });
  it.each(words.parseHeredoc.invalid)('%s is an error', (w) => {
    expect(() => parseHeredocWord(w)).toThrow();
  });
  it.each(words.parseHeredoc.notHeredoc)('%j is not a heredoc', (w) => {
    expect(parseHeredocWord(w)).toBeUndefined();
  });
});

describe('BuildKit TestHeredocsFromLine', () => {
  it.each(words.heredocsFromLine.map((r) => [r.line, r.names] as const))('%s → %j', (line, names) => {
    expect(findHeredocs(line).map((h) => h.name)).toEqual(names);
  });
});

describe('BuildKit TestHeredocChomp', () => {
  it('strips leading tabs of every line', () => {
    expect(chompHeredoc(words.chomp.content)).toBe(words.chomp.chomped);
  });
});
