import { describe, expect, it } from 'vitest';
import { goPathMatch, goQuote, goQuoteList, hasGoWildcard } from './index';

// Expectations from Go's own tables (path/filepath match_test.go, strconv quote_test.go).
describe('goPathMatch = filepath.Match', () => {
  it.each([
    ['abc', 'abc', true], ['*', 'abc', true], ['*c', 'abc', true], ['a*', 'a', true], ['a*', 'abc', true], ['a*', 'ab/c', false],
    ['a*/b', 'abc/b', true], ['a*/b', 'a/c/b', false], ['a*b*c*d*e*/f', 'axbxcxdxe/f', true], ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false], ['a*b?c*x', 'abxbbxdbxebxczzx', true], ['a*b?c*x', 'abxbbxdbxebxczzy', false],
    ['ab[c]', 'abc', true], ['ab[b-d]', 'abc', true], ['ab[e-g]', 'abc', false], ['ab[^c]', 'abc', false], ['ab[^b-d]', 'abc', false],
    ['ab[^e-g]', 'abc', true], ['a\\*b', 'a*b', true], ['a\\*b', 'ab', false], ['a?b', 'a☺b', true], ['a[^a]b', 'a☺b', true],
    ['a???b', 'a☺b', false], ['[a-ζ]*', 'α', true], ['*[a-ζ]', 'A', false], ['a?b', 'a/b', false], ['a*b', 'a/b', false],
    ['[\\]a]', ']', true], ['[\\-]', '-', true], ['[x\\-]', 'x', true], ['[\\-x]', 'a', false],
    ['[]a]', ']', 'bad'], ['[-]', '-', 'bad'], ['[x-]', 'x', 'bad'], ['[-x]', 'a', 'bad'], ['\\', 'a', 'bad'], ['[a-b-c]', 'a', 'bad'],
    ['[', 'a', 'bad'], ['[^', 'a', 'bad'], ['[^bc', 'a', 'bad'], ['a[', 'a', 'bad'], ['a[', 'ab', 'bad'], ['a[', 'x', 'bad'], ['a/b[', 'x', 'bad'],
    ['*x', 'xxx', true],
  ] as const)('%s ~ %s → %s', (pattern, name, want) => {
    expect(goPathMatch(pattern, name)).toBe(want);
  });
  it('hasGoWildcard', () => {
    expect([hasGoWildcard('a/b'), hasGoWildcard('a*'), hasGoWildcard('a?'), hasGoWildcard('[ab]')]).toEqual([false, true, true, true]);
  });
});

describe('goQuote = strconv.Quote', () => {
  it.each([
    ['\x07\b\f\r\n\t\v', '"\\a\\b\\f\\r\\n\\t\\v"'], ['\\', '"\\\\"'], ['\u263a', '"☺"'],
    ['\u00ad', '"\\u00ad"'], ['\x04', '"\\x04"'], ['!\u00a0!\u2000!\u3000!', '"!\\u00a0!\\u2000!\\u3000!"'], ['\x7f', '"\\x7f"'], ['"', '"\\""'],
  ])('%j → %s', (s, want) => {
    expect(goQuote(s)).toBe(want);
  });
  it('goQuoteList is %q of a []string', () => {
    expect(goQuoteList(['/bin/sh', '-c', 'echo "hi"'])).toBe('["/bin/sh" "-c" "echo \\"hi\\""]');
  });
});
