import { parseHeredocWord } from './heredoc-word';
import type { Heredoc, RunHeredocPlan } from './types';

/** `<<-` semantics: strip leading tabs from every line (BuildKit `ChompHeredocContent`). */
export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, '');
}

/**
 * How RUN turns its heredocs into a command (BuildKit `dispatchRun`, linux targets):
 * `text` is the shell-form command line, `heredocs` the RUN's heredocs. Undefined without heredocs.
 * The body is never variable-expanded here: the shell sees it.
 */
export function runHeredocPlan(text: string, heredocs: readonly Heredoc[]): RunHeredocPlan | undefined {
  if (heredocs.length === 0) return undefined;
  const first = heredocs[0]!;
  if (parseHeredocSafe(text)) {
    const data = first.chomp ? chompHeredoc(first.content) : first.content;
    if (data.startsWith('#!')) {
      return { kind: 'file', name: first.name, path: joinPath('/dev/pipes/', first.name), data, mode: 0o755 };
    }
    return { kind: 'script', script: data };
  }
  let full = text;
  for (const h of heredocs) full += '\n' + h.content + h.name;
  return { kind: 'shell', text: full };
}

function parseHeredocSafe(word: string): boolean {
  try {
    return parseHeredocWord(word) !== undefined;
  } catch {
    return false;
  }
}

/** Go `path.Join` for a directory and a name. */
function joinPath(dir: string, name: string): string {
  const parts: string[] = [];
  for (const seg of `${dir}/${name}`.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return '/' + parts.join('/');
}
