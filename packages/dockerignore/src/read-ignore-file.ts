import { goClean, goTrimSpace } from './go-path';

/** One pattern line of an ignore file, normalised as Docker's `ignorefile.ReadAll` does. */
export interface IgnoreLine {
  /** `!`-prefixed for exceptions; cleaned; one leading `/` dropped. */
  pattern: string;
  /** 1-based line number in the file. */
  line: number;
}

const BOM = '\uFEFF';

/**
 * Parse `.dockerignore` text: BOM stripped from the first line, `#` comments only in column 1
 * (checked before trimming), blank lines skipped, `!` exceptions (space after `!` allowed), each
 * pattern `Clean`ed and made relative. No validation here; `createMatcher` compiles and reports.
 */
export function readIgnoreFile(content: string | Uint8Array): IgnoreLine[] {
  let text = typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
  if (text.startsWith(BOM)) text = text.slice(1);
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const out: IgnoreLine[] = [];
  lines.forEach((rawLine, idx) => {
    // bufio.ScanLines drops one trailing \r
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.startsWith('#')) return;
    let pattern = goTrimSpace(line);
    if (pattern === '') return;
    const invert = pattern[0] === '!';
    if (invert) pattern = goTrimSpace(pattern.slice(1));
    if (pattern.length > 0) {
      pattern = goClean(pattern);
      if (pattern.length > 1 && pattern[0] === '/') pattern = pattern.slice(1);
    }
    out.push({ pattern: invert ? `!${pattern}` : pattern, line: idx + 1 });
  });
  return out;
}
