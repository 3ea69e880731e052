import type { ParseOptions, ParseResult } from './types';

/**
 * Dockerfile text → AST with line ranges, parser directives and parser warnings.
 * Throws StrataError DOCKERFILE_SYNTAX `Dockerfile:LINE: message`.
 */
export function parse(text: string, options: ParseOptions = {}): ParseResult {
  void text;
  void options;
  throw new Error('parse: not implemented yet');
}
