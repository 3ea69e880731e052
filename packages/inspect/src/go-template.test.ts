import { describe, expect, it } from 'vitest';
import { compileTemplate, goValue, parseListFormat, renderRows, tabwrite, TemplateError } from './go-template';
import { T } from './go-value';

const run = (t: string, data: unknown) => compileTemplate(t).execute(goValue(data));

describe('Go template engine', () => {
  it('range with break/continue and else', () => {
    expect(run('{{range .}}{{if eq . "2"}}{{continue}}{{end}}{{if eq . "4"}}{{break}}{{end}}{{.}}{{end}}', [1, 2, 3, 4, 5].map(String))).toBe('13');
    expect(run('{{range .}}x{{else}}empty{{end}}', [])).toBe('empty');
  });
  it('variables are scoped to their block', () => {
    expect(run('{{$x := "a"}}{{if true}}{{$x = "b"}}{{$y := 1}}{{end}}{{$x}}', {})).toBe('b');
    expect(() => run('{{if true}}{{$y := 1}}{{end}}{{$y}}', {})).toThrow('undefined variable "$y"');
  });
  it('trim markers and comments', () => {
    expect(run('a  {{- /* c */ -}}  b', {})).toBe('ab');
    expect(run('{{-3}}', {})).toBe('-3');
  });
  it('parenthesised pipelines and chains', () => {
    expect(run('{{(index . 0).Name}}', [{ Name: 'n' }])).toBe('n');
    expect(run('{{with $x := .A}}{{$x}}{{end}}', { A: 'v' })).toBe('v');
  });
  it('printf, print, html', () => {
    expect(run('{{printf "%-4s|%04d|%.2f|%v" "ab" 7 3.14159 .}}', ['a'])).toBe('ab  |0007|3.14|[a]');
    expect(run('{{printf "%d"}}', {})).toBe('%!d(MISSING)');
  });
  it.each([
    ['{{"abc}}', 'template: :1: unterminated quoted string'],
    ['{{(.A}}', 'template: :1: unclosed left paren'],
    ['{{.A)}}', 'template: :1: unexpected right paren'],
    ['{{/* x }}', 'template: :1: unclosed comment'],
    ['a\n{{else}}', 'template: :2: unexpected {{else}}'],
    ['{{template "x"}}', 'not supported'],
  ])('%s fails: %s', (t, msg) => {
    expect(() => compileTemplate(t)).toThrow(TemplateError);
    expect(() => compileTemplate(t)).toThrow(msg);
  });
});

describe('list formats', () => {
  const rows = [
    { ID: 'abc', Size: '1B' },
    { ID: 'a-much-longer-id', Size: '22kB' },
  ].map((r) => goValue(r, { k: 'struct', name: 'row', fields: [{ name: 'ID', t: T.string }, { name: 'Size', t: T.string }] }));
  it('table: header from the column names, tabwriter alignment', () => {
    const f = parseListFormat('table {{.ID}}\\t{{.Size}}');
    expect(f.kind).toBe('table');
    if (f.kind !== 'table' || !f.template) throw new Error('no template');
    expect(renderRows(f.template, rows, { ID: 'IMAGE', Size: 'SIZE' })).toBe('IMAGE              SIZE\nabc                1B\na-much-longer-id   22kB\n');
  });
  it('plain templates print one line per row, json is json', () => {
    const f = parseListFormat('{{.ID}}');
    if (f.kind !== 'template') throw new Error('not a template');
    expect(renderRows(f.template, rows)).toBe('abc\na-much-longer-id\n');
    expect(parseListFormat('json').kind).toBe('json');
  });
  it('tabwrite keeps a minimum width of 10', () => {
    expect(tabwrite('a\tb\nc\td')).toBe('a         b\nc         d');
  });
});
