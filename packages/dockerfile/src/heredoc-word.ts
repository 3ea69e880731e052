import { createLexer } from './lexer';
import type { Heredoc } from './types';

const HEREDOC_RE = /^([0-9]*)<<(-?)[\t\n\f\r ]*([^<]*)$/;

/**
 * One word → a heredoc, as BuildKit `ParseHeredoc`: `[fd]<<[-]NAME`; NAME loses its quotes and
 * any quoting disables expansion of the body. Undefined when the word is not a heredoc.
 */
export function parseHeredocWord(word: string): Heredoc | undefined {
  const m = HEREDOC_RE.exec(word);
  if (!m) return undefined;
  const rest = m[3]!;
  if (rest === '') return undefined;
  const words = createLexer({ skipUnsetEnv: true }).processWords(rest, {});
  if (words.length !== 1) return undefined;
  const raw = createLexer({ skipUnsetEnv: true, rawQuotes: true }).processWords(rest, {});
  if (raw.length !== words.length) throw new Error(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  const quotes = (s: string): number => s.split(/['"]/).length - 1;
  return {
    name: words[0]!,
    fileDescriptor: m[1] === '' ? 0 : Number(m[1]),
    expand: quotes(words[0]!) === quotes(raw[0]!),
    chomp: m[2] === '-',
    content: '',
  };
}

/** The heredocs a logical line opens, in order (lexed with `\` whatever the escape directive). */
export function findHeredocs(line: string): Heredoc[] {
  let words: string[];
  try {
    words = createLexer({ rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).processWords(line, {});
  } catch {
    words = [];
  }
  const docs: Heredoc[] = [];
  for (const w of words) {
    const doc = parseHeredocWord(w);
    if (doc) docs.push(doc);
  }
  return docs;
}
