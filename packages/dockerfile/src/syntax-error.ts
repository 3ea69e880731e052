import { StrataError } from '@strata/errors';
import type { LineRange } from './types';

const LINES = Symbol('dockerfile.lines');

/** `Dockerfile:LINE: message` as a DOCKERFILE_SYNTAX StrataError that remembers its lines. */
export function syntaxError(filename: string, range: LineRange, message: string): StrataError {
  const err = new StrataError('DOCKERFILE_SYNTAX', `${filename}:${range.start}: ${message}`);
  (err as unknown as Record<symbol, LineRange>)[LINES] = { ...range };
  return err;
}

/** The line range a parse/convert error points at, or undefined for other errors. */
export function dockerfileErrorLine(err: unknown): LineRange | undefined {
  if (err && typeof err === 'object' && LINES in err) return (err as Record<symbol, LineRange>)[LINES];
  return undefined;
}
