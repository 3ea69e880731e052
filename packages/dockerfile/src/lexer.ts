import { StrataError } from '@strata/errors';
import { goQuote, isSpace } from './go-text';
import { replacePattern, trimPrefix, trimSuffix } from './shell-pattern';
import type { Env, Lexer, LexerOptions, ProcessWordResult, ProcessWordsResult } from './types';

/**
 * A shell-word lexer with BuildKit's exact semantics (frontend/dockerfile/shell): quote removal,
 * escapes with the Dockerfile's escape token, `$v`/`${v…}` expansion, and word splitting that
 * happens after expansion but never inside quotes.
 */
export function createLexer(options: LexerOptions = {}): Lexer {
  const opts: Required<LexerOptions> = {
    escape: options.escape ?? '\\',
    rawQuotes: options.rawQuotes ?? false,
    rawEscapes: options.rawEscapes ?? false,
    skipProcessQuotes: options.skipProcessQuotes ?? false,
    skipUnsetEnv: options.skipUnsetEnv ?? false,
  };
  const processWordsWithMatches = (word: string, env: Env): ProcessWordsResult => {
    const r = run(word, env, opts);
    return { words: r.words, matched: r.matched, unmatched: r.unmatched };
  };
  const processWordWithMatches = (word: string, env: Env): ProcessWordResult => {
    const r = run(word, env, opts);
    return { result: r.result, matched: r.matched, unmatched: r.unmatched };
  };
  return {
    processWord: (word, env) => processWordWithMatches(word, env).result,
    processWords: (word, env) => processWordsWithMatches(word, env).words,
    processWordWithMatches,
    processWordsWithMatches,
  };
}

/** Expand one word with `env` (BuildKit `ProcessWord`). */
export function expand(word: string, env: Env, options: LexerOptions = {}): string {
  return createLexer(options).processWord(word, env);
}

interface RunResult {
  result: string;
  words: string[];
  matched: Set<string>;
  unmatched: Set<string>;
}

const EOF = undefined;

function run(source: string, env: Env, opts: Required<LexerOptions>): RunResult {
  const st = new WordState(source, env, opts);
  try {
    const { result, words } = st.processStopOn(EOF, opts.rawEscapes);
    return { result, words, matched: st.matched, unmatched: st.unmatched };
  } catch (err) {
    // the reason may quote a character of the source: a newline there stays on the message's one line
    const why = (err as Error).message.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
    throw new StrataError('DOCKERFILE_SYNTAX', `failed to process ${goQuote(source)}: ${why}`);
  }
}

/** Collects words: characters from expansions split on whitespace, quoted text never does. */
class Words {
  word = '';
  words: string[] = [];
  inWord = false;

  addChar(ch: string): void {
    if (isSpace(ch) && this.inWord) {
      if (this.word.length !== 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
    } else if (!isSpace(ch)) {
      this.addRawChar(ch);
    }
  }

  addRawChar(ch: string): void {
    this.word += ch;
    this.inWord = true;
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  addRawString(s: string): void {
    this.word += s;
    this.inWord = true;
  }

  getWords(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = '';
      this.inWord = false;
    }
    return this.words;
  }
}

class WordState {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(
    source: string,
    private readonly env: Env,
    private readonly opts: Required<LexerOptions>,
  ) {
    this.chars = Array.from(source);
    this.rawEscapes = opts.rawEscapes;
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    const ch = this.chars[this.pos];
    if (ch !== undefined) this.pos++;
    return ch;
  }

  processStopOn(stop: string | undefined, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.scan(stop);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private scan(stop: string | undefined): { result: string; words: string[] } {
    let result = '';
    const words = new Words();
    const quotes = !this.opts.skipProcessQuotes;
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (stop !== undefined && ch === stop) {
        this.next();
        return { result, words: words.getWords() };
      }
      if (ch === '$') {
        const tmp = this.processDollar();
        result += tmp;
        words.addString(tmp);
      } else if (quotes && ch === "'") {
        const tmp = this.processSingleQuote();
        result += tmp;
        words.addRawString(tmp);
      } else if (quotes && ch === '"') {
        const tmp = this.processDoubleQuote();
        result += tmp;
        words.addRawString(tmp);
      } else if (ch === '<') {
        const tmp = this.processPossibleHeredoc();
        result += tmp;
        words.addRawString(tmp);
      } else {
        let c = this.next()!;
        if (c === this.opts.escape) {
          if (this.rawEscapes) {
            words.addRawChar(c);
            result += c;
          }
          // An escape escapes anything, except at the very end where it is dropped.
          const n = this.next();
          if (n === undefined) break;
          c = n;
          words.addRawChar(c);
        } else {
          words.addChar(c);
        }
        result += c;
      }
    }
    if (stop !== undefined) throw new Error(`unexpected end of statement while looking for matching ${stop}`);
    return { result, words: words.getWords() };
  }

  private processSingleQuote(): string {
    let result = '';
    const open = this.next()!;
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new Error('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    let result = '';
    const open = this.next()!;
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const p = this.peek();
      if (p === undefined) throw new Error('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        this.next();
        if (this.opts.rawQuotes) result += p;
        return result;
      }
      if (p === '$') {
        result += this.processDollar();
        continue;
      }
      let ch = this.next()!;
      if (ch === this.opts.escape) {
        if (this.rawEscapes) result += ch;
        const n = this.peek();
        if (n === undefined) continue; // escape at end of word is dropped
        // Inside double quotes only `"`, `$` and the escape itself can be escaped.
        if (n === '"' || n === '$' || n === this.opts.escape) ch = this.next()!;
      }
      result += ch;
    }
  }

  /**
   * `<<` keeps the blanks right after it in its word (BuildKit >= dockerfile 1.16), so `<< EOF`
   * is one word and reads as a heredoc; `<<- EOF` stays two words, `<<-` and `EOF`.
   */
  private processPossibleHeredoc(): string {
    this.next(); // '<'
    if (this.peek() !== '<') return '<';
    this.next();
    let result = '<<';
    for (let p = this.peek(); p === ' ' || p === '\t' || p === '\r'; p = this.peek()) result += this.next();
    return result;
  }

  private getEnv(name: string): { value: string; set: boolean } {
    const env = this.env;
    const value = isMap(env) ? env.get(name) : Object.prototype.hasOwnProperty.call(env, name) ? env[name] : undefined;
    if (value !== undefined) {
      this.matched.add(name);
      return { value, set: true };
    }
    this.unmatched.add(name);
    return { value: '', set: false };
  }

  private processDollar(): string {
    this.next(); // '$'
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const { value, set } = this.getEnv(name);
      if (!set && this.opts.skipUnsetEnv) return '$' + name;
      return value;
    }
    this.next(); // '{'
    const first = this.peek();
    if (first === undefined) throw new Error("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new Error('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    let chs = ch ?? '\ufffd';
    let nullIsUnset = false;
    if (ch === '}') {
      const { value, set } = this.getEnv(name);
      if (!set && this.opts.skipUnsetEnv) return '${' + name + '}';
      return value;
    }
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.next();
      chs += ch ?? '\ufffd';
    }
    if (ch === '/' && !nullIsUnset) return this.processReplace(name);
    if (!nullIsUnset && ch !== '+' && ch !== '-' && ch !== '?' && ch !== '#' && ch !== '%') {
      throw new Error(`unsupported modifier (${chs}) in substitution`);
    }
    const patternMode = ch === '#' || ch === '%';
    if (nullIsUnset && patternMode) throw new Error(`unsupported modifier (${chs}) in substitution`);
    let word: string;
    try {
      word = this.processStopOn('}', patternMode).result;
    } catch (err) {
      if (this.peek() === undefined) throw new Error("syntax error: missing '}'");
      throw err;
    }
    const { value, set } = this.getEnv(name);
    if (this.opts.skipUnsetEnv && !set) return '${' + name + chs + word + '}';
    switch (ch) {
      case '-':
        return !set || (nullIsUnset && value === '') ? word : value;
      case '+':
        return !set || (nullIsUnset && value === '') ? '' : word;
      case '?':
        if (!set) throw new Error(`${name}: ${word !== '' ? word : 'is not allowed to be unset'}`);
        if (nullIsUnset && value === '') throw new Error(`${name}: ${word !== '' ? word : 'is not allowed to be empty'}`);
        return value;
      case '#':
      case '%': {
        const greedy = word.startsWith(ch);
        const pattern = greedy ? word.slice(1) : word;
        return ch === '%' ? trimSuffix(pattern, value, greedy) : trimPrefix(pattern, value, greedy);
      }
      default:
        throw new Error(`unsupported modifier (${chs}) in substitution`);
    }
  }

  private processReplace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    let pattern: string;
    try {
      pattern = this.processStopOn('/', true).result;
    } catch (err) {
      if (this.peek() === undefined) throw new Error("syntax error: missing '/' in ${}");
      throw err;
    }
    let replacement: string;
    try {
      replacement = this.processStopOn('}', true).result;
    } catch (err) {
      if (this.peek() === undefined) throw new Error("syntax error: missing '}'");
      throw err;
    }
    const { value, set } = this.getEnv(name);
    if (this.opts.skipUnsetEnv && !set) return '${' + name + '/' + pattern + '/' + replacement + '}';
    return replacePattern(pattern, value, replacement, all);
  }

  /** Letters, digits, `_`; a leading digit run or one special parameter (`$@`, `$#`, …). */
  private processName(): string {
    let name = '';
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (name === '' && isDigit(ch)) {
        while (this.peek() !== undefined && isDigit(this.peek()!)) name += this.next();
        return name;
      }
      if (name === '' && SPECIAL_PARAMS.has(ch)) {
        this.next();
        return ch;
      }
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }
}

const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);

function isDigit(ch: string): boolean {
  return /^\p{Nd}$/u.test(ch);
}

function isLetter(ch: string): boolean {
  return /^\p{L}$/u.test(ch);
}

function isMap(env: Env): env is ReadonlyMap<string, string> {
  return env instanceof Map;
}
