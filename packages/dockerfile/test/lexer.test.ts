import { describe, expect, it } from 'vitest';
import { createLexer } from '../src/lexer';
import type { LexerOptions } from '../src/types';

/**
 * `input | expected` facts of BuildKit's shell lexer (frontend/dockerfile/shell/lex.go), worked
 * out by hand from its rules and its own test table (lex_test.go). `!msg` = an error whose
 * message contains msg.
 */
const ENV = {
  PWD: '/home',
  SHELL: 'bash',
  KOREAN: '한국어',
  NULL: '',
  FOO: 'xxyy',
  BAR: 'x',
  SPACED: 'a  b',
  PATHV: '/a/b',
  STARS: 'a***yy*',
  URL: 'http://google.de',
};

const WORD: Array<[string, string]> = [
  ['hello', 'hello'],
  ["he'll'o", 'hello'],
  ["he'llo", '!unexpected end of statement while looking for matching single-quote'],
  ["he\\'llo", "he'llo"],
  ["he\\\\'llo", '!matching single-quote'],
  ['abc\\\\def', 'abc\\def'],
  ['"abc\\\\def"', 'abc\\def'],
  ['"abc\\def"', 'abc\\def'],
  ["'abc\\\\def'", 'abc\\\\def'],
  ['"abc\\""', 'abc"'],
  ['"abc', '!unexpected end of statement while looking for matching double-quote'],
  ['\'a"b\'', 'a"b'],
  ['"a\'b"', "a'b"],
  ['$PWD', '/home'],
  ['${PWD}', '/home'],
  ['\\$PWD', '$PWD'],
  ["'$PWD'", '$PWD'],
  ['"$PWD"', '/home'],
  ['"\\$PWD"', '$PWD'],
  ['$', '$'],
  ['foo$', 'foo$'],
  ['$.x', '$.x'],
  ['$UNSET', ''],
  ['x${UNSET}y', 'xy'],
  ['${PWD:-def}', '/home'],
  ['${UNSET:-def}', 'def'],
  ['${NULL:-def}', 'def'],
  ['${NULL-def}', ''],
  ['${UNSET-def}', 'def'],
  ['${PWD:+alt}', 'alt'],
  ['${NULL:+alt}', ''],
  ['${NULL+alt}', 'alt'],
  ['${UNSET+alt}', ''],
  ['${UNSET:-$PWD}', '/home'],
  ["${UNSET:-'a b'}", 'a b'],
  ['${UNSET:-"$SHELL x"}', 'bash x'],
  ['${PWD:?msg}', '/home'],
  ['${UNSET:?custom message}', '!UNSET: custom message'],
  ['${NULL:?}', '!NULL: is not allowed to be empty'],
  ['${UNSET:?}', '!UNSET: is not allowed to be unset'],
  ['${UNSET?}', '!UNSET: is not allowed to be unset'],
  ['${NULL?}', ''],
  ['${NULL?oops}', ''],
  ['${FOO#x}', 'xyy'],
  ['${FOO##*x}', 'yy'],
  ['${FOO#*x*y}', 'y'],
  ['${FOO#*}', 'xxyy'],
  ['${FOO##*}', ''],
  ['${FOO#}', 'xxyy'],
  ['${FOO#$BAR}', 'xyy'],
  ['${FOO%y}', 'xxy'],
  ['${FOO%%y*}', 'xx'],
  ['${FOO%%\\**}', 'xxyy'],
  ['${STARS%%\\**\\*}', 'a'],
  ['${FOO#\\*}', 'xxyy'],
  ['${FOO%\\x}', "!invalid pattern (\\x) in substitution: invalid escape '\\x'"],
  ['${FOO/x/z}', 'zxyy'],
  ['${FOO//x/z}', 'zzyy'],
  ['${FOO/?y/-}', 'x-y'],
  ['${FOO/x*/}', ''],
  ['${FOO//y/$BAR}', 'xxxx'],
  ['${PATHV//\\//-}', '-a-b'],
  ['${URL/http:\\/\\//https://}', 'https://google.de'],
  ['${FOO///}', 'xxyy'],
  ['${UNSET///}', ''],
  ['${FOO/x}', "!syntax error: missing '/' in ${}"],
  ['${FOO//}', "!syntax error: missing '/' in ${}"],
  ['${FOO:#x}', '!unsupported modifier (:#) in substitution'],
  ['${FOO:%x}', '!unsupported modifier (:%) in substitution'],
  ['${FOO=x}', '!unsupported modifier (=) in substitution'],
  ['${FOO:=x}', '!unsupported modifier (:=) in substitution'],
  ['${FOO:x}', '!unsupported modifier (:x) in substitution'],
  ['${FOO:/x/y}', '!unsupported modifier (:/) in substitution'],
  ['${}', '!syntax error: bad substitution'],
  ['${:x}', '!syntax error: bad substitution'],
  ['${{x}}', '!syntax error: bad substitution'],
  ['${', "!syntax error: missing '}'"],
  ['${FOO:-abc', "!syntax error: missing '}'"],
  ['${FOO:}', "!syntax error: missing '}'"],
  ['$KOREAN', '한국어'],
  ['${KOREAN}x', '한국어x'],
  ['$1', ''],
  ['$12abc', 'abc'],
  ['$@x', 'x'],
  ['$$', ''],
  ['a\\', 'a'],
  ['"a\\"', '!matching double-quote'],
  ["\\'", "'"],
  ['"$UNSET"', ''],
  ['\'$PWD\'"$PWD"', '$PWD/home'],
  ['${UNSET:-a}${UNSET:-b}', 'ab'],
  ['${PWD:-x}/y', '/home/y'],
  ['a  b', 'a  b'],
  ['"${PWD}"/x', '/home/x'],
  // Rows of BuildKit's own envVarTest table (shell/envVarTest), same env.
  ['abc\\tdef', 'abctdef'],
  ['"abc\\tdef"', 'abc\\tdef'],
  ['"abc\\\\tdef"', 'abc\\tdef'],
  ["'abc\\tdef'", 'abc\\tdef'],
  ['hello\\', 'hello'],
  ['hello\\\\', 'hello\\'],
  ['"hello\\"', '!matching double-quote'],
  ['"hel\'lo"', "hel'lo"],
  ["'hello\\'", 'hello\\'],
  ["'hello\\\\there'", 'hello\\\\there'],
  ['"\'\'"', "''"],
  ['he$1x', 'hex'],
  ['he$.x', 'he$.x'],
  ['he$pwd.', 'he.'],
  ['he\\\\$PWD', 'he\\/home'],
  ['"he\\\\$PWD"', 'he\\/home'],
  ['\\${}', '${}'],
  ['he\\${}xx', 'he${}xx'],
  ['he${}xx', '!bad substitution'],
  ['he${hi}xx', 'hexx'],
  ['he${.}', '!unsupported modifier (.) in substitution'],
  ['he${XXX:-${PWD:-yyy}}xx', 'he/homexx'],
  ['he${XXX:-${YYY:-yyy}}xx', 'heyyyxx'],
  ['he${XXX:YYY}', '!unsupported modifier (:Y) in substitution'],
  ['he${PWD:+${SHELL}}xx', 'hebashxx'],
  ['he${PWD:+${XXX}}xx', 'hexx'],
  ["'he${XX}'", 'he${XX}'],
  ['"he\'$PWD\'"', "he'/home'"],
  ["'\\$PWD'", '\\$PWD'],
  ['he${PWD', '!unsupported modifier (\ufffd) in substitution'],
  ['he${PWD}}', 'he/home}'],
  ['a${KOREAN}', 'a한국어'],
];

const WORDS: Array<[string, string[]]> = [
  ['a b c', ['a', 'b', 'c']],
  ['  a   b  ', ['a', 'b']],
  ['"a b" c', ['a b', 'c']],
  ["'a b'c", ['a bc']],
  ['a\\ b', ['a b']],
  ['$SPACED', ['a', 'b']],
  ['"$SPACED"', ['a  b']],
  ['x$SPACED', ['xa', 'b']],
  ['""', []],
  ['a "" b', ['a', 'b']],
  ['$UNSET', []],
  ['a\\\\ b', ['a\\', 'b']],
  ['${SPACED:-x}y', ['a', 'by']],
  ["'$SPACED'", ['$SPACED']],
  ['a\tb', ['a', 'b']],
  ['80/tcp $BAR', ['80/tcp', 'x']],
];

const OPTIONS: Array<[LexerOptions, string, string]> = [
  [{ escape: '`' }, '`$PWD', '$PWD'],
  [{ escape: '`' }, '\\$PWD', '\\/home'],
  [{ escape: '`' }, '"a``b"', 'a`b'],
  [{ escape: '`' }, 'C:\\path', 'C:\\path'],
  [{ skipProcessQuotes: true }, '"a $PWD" \'b\'', '"a /home" \'b\''],
  [{ skipProcessQuotes: true }, 'printf "a\\nb"', 'printf "anb"'],
  [{ skipProcessQuotes: true }, "it's $SHELL", "it's bash"],
  [{ rawEscapes: true }, 'a\\$b', 'a\\$b'],
  [{ rawQuotes: true }, '"a b"\'c\'', '"a b"\'c\''],
  [{ skipUnsetEnv: true }, '$UNSET-${UNSET}-${UNSET:-x}-$PWD', '$UNSET-${UNSET}-${UNSET:-x}-/home'],
  [{ skipUnsetEnv: true, rawQuotes: true }, '"$UNSET" x', '"$UNSET" x'],
];

function check(actual: () => string, expected: string): void {
  if (expected.startsWith('!')) expect(actual).toThrow(expected.slice(1));
  else expect(actual()).toBe(expected);
}

describe('lexer: processWord', () => {
  const lex = createLexer();
  it.each(WORD)('%s | %s', (input, expected) => check(() => lex.processWord(input, ENV), expected));
});

describe('lexer: processWords', () => {
  const lex = createLexer();
  it.each(WORDS)('%s | %j', (input, expected) => expect(lex.processWords(input, ENV)).toEqual(expected));
});

describe('lexer: options', () => {
  it.each(OPTIONS)('%j %s | %s', (opts, input, expected) =>
    check(() => createLexer(opts).processWord(input, ENV), expected),
  );
});

describe('lexer: details', () => {
  it('wraps errors as BuildKit: failed to process "<word>": …', () => {
    expect(() => createLexer().processWord('${X:?}', {})).toThrow('failed to process "${X:?}": X: is not allowed to be unset');
  });
  it('reports matched and unmatched variables', () => {
    const r = createLexer().processWordWithMatches('${FOO:-a}$UNSET${BAR#x}', ENV);
    expect(r.result).toBe('xxyy');
    expect([...r.matched].sort()).toEqual(['BAR', 'FOO']);
    expect([...r.unmatched]).toEqual(['UNSET']);
  });
  it('accepts a Map env and is case-sensitive', () => {
    const env = new Map([['foo', '1']]);
    expect(createLexer().processWord('$foo$FOO', env)).toBe('1');
  });
});
