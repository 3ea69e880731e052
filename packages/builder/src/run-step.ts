import { StrataError } from '@strata/errors';
import type { RunInstruction } from '@strata/dockerfile';

/** RUN: not wired to @strata/runtime yet. */
export async function runStep(_ctx: unknown, _st: unknown, ins: RunInstruction, _helpers: unknown): Promise<{ cached: boolean }> {
  void ins;
  throw new StrataError('UNSUPPORTED', 'RUN is not supported by this build of strata yet');
}
