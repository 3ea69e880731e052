import { parse } from './parse';
import { toInstructions } from './to-instructions';
import type { Directives, InstructionsResult, ParseOptions, ToInstructionsOptions } from './types';

/** parse() + toInstructions() in one call; warnings of both, in line order, filtered by `# check=skip=`. */
export function parseDockerfile(
  text: string,
  options: ParseOptions & ToInstructionsOptions = {},
): InstructionsResult & { directives: Directives } {
  const parsed = parse(text, options);
  const result = toInstructions(parsed.ast, options);
  const check = parsed.directives.check;
  const warnings = [...parsed.warnings, ...result.warnings]
    .filter((w) => !check || (!check.skipAll && !check.skip.includes(w.rule)))
    .sort((a, b) => a.range.start - b.range.start);
  return { ...result, warnings, directives: parsed.directives };
}
