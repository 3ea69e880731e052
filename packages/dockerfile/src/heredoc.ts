import type { Heredoc, RunHeredocPlan } from './types';

/** `<<-` semantics: strip leading tabs from every line (BuildKit `ChompHeredocContent`). */
export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, '');
}

/**
 * How RUN turns its heredocs into a command (BuildKit `dispatchRun`, linux):
 * `text` is the shell-form command line, `heredocs` the RUN's heredocs.
 */
export function runHeredocPlan(text: string, heredocs: readonly Heredoc[]): RunHeredocPlan | undefined {
  void text;
  void heredocs;
  throw new Error('runHeredocPlan: not implemented yet');
}
