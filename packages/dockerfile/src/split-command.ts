import { isSpace, trimSpace } from './go-text';

const WHITESPACE = /[\t\v\f\r ]+/;

/** `[\t\v\f\r ]+` split like Go `regexp.Split(s, n)` (n = -1: all). */
export function splitWhitespace(s: string, n = -1): string[] {
  if (n === 2) {
    const m = WHITESPACE.exec(s);
    return m ? [s.slice(0, m.index), s.slice(m.index + m[0].length)] : [s];
  }
  return s.split(/[\t\v\f\r ]+/);
}

/**
 * BuildKit `splitCommand`: the keyword, the leading `--flags` (quotes removed, `\` escapes,
 * a bare `--` ends them) and the rest of the line.
 */
export function splitCommand(line: string): { keyword: string; flags: string[]; rest: string } {
  const parts = splitWhitespace(trimSpace(line), 2);
  const keyword = parts[0]!;
  if (parts.length < 2) return { keyword, flags: [], rest: '' };
  const { rest, flags } = extractBuilderFlags(parts[1]!);
  return { keyword, flags, rest: trimSpace(rest) };
}

function extractBuilderFlags(line: string): { rest: string; flags: string[] } {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  const n = line.length;
  for (let pos = 0; pos <= n; pos++) {
    const ch = pos < n ? line[pos]! : '';
    if (phase === 'spaces') {
      if (pos === n) break;
      if (isSpace(ch)) continue;
      // Flags run only while words start with `--`.
      if (ch !== '-' || pos + 1 === n || line[pos + 1] !== '-') return { rest: line.slice(pos), flags: words };
      phase = 'word';
    }
    if (pos === n) {
      if (word !== '--' && (blankOK || word.length > 0)) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (word === '--') return { rest: line.slice(pos), flags: words };
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        continue;
      }
      let c = ch;
      if (c === '\\') {
        if (pos + 1 === n) continue;
        pos++;
        c = line[pos]!;
      }
      word += c;
      continue;
    }
    // inside quotes
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    let c = ch;
    if (c === '\\') {
      if (pos + 1 === n) {
        phase = 'word';
        continue;
      }
      pos++;
      c = line[pos]!;
    }
    word += c;
  }
  return { rest: '', flags: words };
}

/**
 * BuildKit `parseWords` (ENV, LABEL, ARG): split on unquoted whitespace, keeping quotes and
 * escapes in the words (they are removed later, by expansion).
 */
export function parseWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  const chars = Array.from(rest);
  const n = chars.length;
  for (let pos = 0; pos <= n; pos++) {
    let ch = pos < n ? chars[pos]! : '';
    if (phase === 'spaces') {
      if (pos === n) break;
      if (isSpace(ch)) continue;
      phase = 'word';
    }
    if (pos === n) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
      }
      if (ch === escape) {
        if (pos + 1 === n) continue; // an escape at the very end is dropped
        // Outside quotes an escape keeps itself and the next char, even a quote.
        word += ch;
        pos++;
        ch = chars[pos]!;
      }
      word += ch;
      continue;
    }
    if (ch === quote) phase = 'word';
    // Inside single quotes the escape is not special.
    if (ch === escape && quote !== "'") {
      if (pos + 1 === n) {
        phase = 'word';
        continue;
      }
      pos++;
      word += ch;
      ch = chars[pos]!;
    }
    word += ch;
  }
  return words;
}
