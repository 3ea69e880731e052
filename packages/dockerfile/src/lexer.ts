import type { Env, Lexer, LexerOptions } from './types';

/** A BuildKit-compatible shell-word lexer (`shell.NewLex(escapeToken)`). */
export function createLexer(options: LexerOptions = {}): Lexer {
  void options;
  throw new Error('createLexer: not implemented yet');
}

/** Expand one word with `env` (BuildKit `ProcessWord`). */
export function expand(word: string, env: Env, options: LexerOptions = {}): string {
  return createLexer(options).processWord(word, env);
}
