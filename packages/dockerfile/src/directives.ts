import { goQuote, parseGoBool, trimLeftSpace, trimSpace } from './go-text';
import type { CheckDirective, Directive } from './types';

// Go regexp `\s` is [\t\n\f\r ] and `.` is anything but \n (JavaScript's are wider).
const DIRECTIVE_RE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*([^\n]+?)[\t\n\f\r ]*$/;
const VALID_DIRECTIVES = new Set(['syntax', 'escape', 'check']);

export interface DirectiveParser {
  /** One line without its newline → a directive, or undefined; throws on a repeated directive. */
  parseLine(line: string): Directive | undefined;
}

/**
 * BuildKit `parser.DirectiveParser`: lines count from `startLine + 1`; the first line that is not
 * `<comment> key=value` with a known key ends the directives for good.
 */
export function createDirectiveParser(comment = '#', startLine = 0): DirectiveParser {
  let line = startLine;
  let done = false;
  const seen = new Set<string>();
  return {
    parseLine(text) {
      line++;
      if (done) return undefined;
      const m = text.startsWith(comment) ? DIRECTIVE_RE.exec(trimLeftSpace(text.slice(comment.length))) : null;
      const key = m?.[1]!.toLowerCase();
      if (!m || !key || !VALID_DIRECTIVES.has(key)) {
        done = true;
        return undefined;
      }
      if (seen.has(key)) throw new Error(`only one ${key} parser directive can be used`);
      seen.add(key);
      return { name: key as Directive['name'], value: m[2]!, line };
    },
  };
}

export interface FoundDirective {
  /** The value up to its first space: `# check = skip=all // opts` → `skip=all`. */
  value: string;
  /** The whole value. */
  cmdline: string;
  line: number;
}

/**
 * How BuildKit reads `# check=` before parsing (`parser.ParseDirective`): after a BOM and one
 * leading `#!` line, over raw lines (an indented directive is not one here), keeping the value
 * up to its first space.
 */
export function findDirective(key: Directive['name'], text: string): FoundDirective | undefined {
  const { lines, firstLine } = directiveLines(text);
  return scan(key, lines, createDirectiveParser('#', firstLine));
}

/**
 * The frontend a Dockerfile asks for, as BuildKit's `parser.DetectSyntax`: `# syntax=` read like
 * findDirective(), else `// syntax=`, else a JSON object's `"syntax"` string.
 */
export function detectSyntax(text: string): FoundDirective | undefined {
  const { lines, firstLine, rest } = directiveLines(text);
  const found = scan('syntax', lines, createDirectiveParser('#', firstLine)) ?? scan('syntax', lines, createDirectiveParser('//', firstLine));
  if (found) return found;
  let json: unknown;
  try {
    json = JSON.parse(rest);
  } catch {
    return undefined;
  }
  const v = json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>).syntax : undefined;
  return typeof v === 'string' ? { value: v, cmdline: v, line: firstLine } : undefined;
}

/** The text after a BOM and a first `#!` line, as bufio.ScanLines lines (CR before LF dropped). */
function directiveLines(text: string): { lines: string[]; firstLine: number; rest: string } {
  let rest = text.startsWith('\ufeff') ? text.slice(1) : text;
  let firstLine = 0;
  const nl = rest.indexOf('\n');
  if ((nl < 0 ? rest : rest.slice(0, nl)).startsWith('#!')) {
    rest = nl < 0 ? '' : rest.slice(nl + 1);
    firstLine = 1;
  }
  const lines = rest.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return { lines: lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)), firstLine, rest };
}

/** BuildKit `ParseAll` (stopping at the first error) and the first directive named `key`. */
function scan(key: string, lines: string[], parser: DirectiveParser): FoundDirective | undefined {
  for (const l of lines) {
    let d: Directive | undefined;
    try {
      d = parser.parseLine(l);
    } catch {
      return undefined;
    }
    if (d?.name === key) {
      const sp = d.value.indexOf(' ');
      return { value: sp < 0 ? d.value : d.value.slice(0, sp), cmdline: d.value, line: d.line };
    }
  }
  return undefined;
}

/**
 * `# check=skip=A,B;error=true;experimental=all` (BuildKit `linter.ParseLintOptions`).
 * Throws a plain Error worded as BuildKit's; the caller adds the line.
 */
export function parseCheck(value: string): CheckDirective {
  const check: CheckDirective = { skip: [], skipAll: false, error: false, experimental: [], experimentalAll: false };
  const v = trimSpace(value);
  if (v === '') return check;
  const fail = (m: string): never => {
    throw new Error(`failed to parse check options: ${m}`);
  };
  for (const part of splitN(v, ';', 3)) {
    const eq = part.indexOf('=');
    if (eq < 0) fail(`invalid check option ${goQuote(part)}`);
    const k = trimSpace(part.slice(0, eq));
    const val = trimSpace(part.slice(eq + 1));
    switch (k) {
      // A repeated key: `all` stays set, a later list replaces an earlier one (as BuildKit).
      case 'skip':
        if (val === 'all') check.skipAll = true;
        else check.skip = val.split(',').map(trimSpace);
        break;
      case 'experimental':
        if (val === 'all') check.experimentalAll = true;
        else check.experimental = val.split(',').map(trimSpace);
        break;
      case 'error': {
        const b = parseGoBool(val);
        if (b === undefined) fail(`failed to parse check option ${goQuote(part)}: strconv.ParseBool: parsing ${goQuote(val)}: invalid syntax`);
        check.error = b!;
        break;
      }
      default:
        fail(`invalid check option ${goQuote(k)}`);
    }
  }
  return check;
}

function splitN(s: string, sep: string, n: number): string[] {
  const parts = s.split(sep);
  if (parts.length <= n) return parts;
  return [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}
