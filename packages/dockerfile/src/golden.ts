import { parseDockerfile } from './parse-dockerfile';

/**
 * The golden form of a Dockerfile: typed stages, global ARGs, directives and warnings
 * (rule, message, lines), or the one-line error. Shared by the golden test and
 * tools/goldens/dockerfile.mjs so both see exactly the same shape.
 */
export function goldenOf(text: string): { expected: unknown } | { error: string } {
  try {
    const r = parseDockerfile(text);
    return {
      expected: {
        directives: r.directives,
        globalArgs: r.globalArgs,
        stages: r.stages,
        warnings: r.warnings.map((w) => ({ rule: w.rule, message: w.message, range: w.range })),
      },
    };
  } catch (err) {
    return { error: (err as Error).message };
  }
}
