import type { Ast, InstructionsResult, ToInstructionsOptions } from './types';

/**
 * AST → typed instructions grouped into stages, global ARGs, and build-check warnings.
 * Throws StrataError DOCKERFILE_SYNTAX `Dockerfile:LINE: message` (unknown instruction with a
 * did-you-mean, unknown flag, bad arguments, no FROM, …).
 */
export function toInstructions(ast: Ast, options: ToInstructionsOptions = {}): InstructionsResult {
  void ast;
  void options;
  throw new Error('toInstructions: not implemented yet');
}
