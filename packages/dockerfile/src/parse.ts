import { createDirectiveParser, detectSyntax, findDirective, parseCheck } from './directives';
import { goQuote, isSpace, trimLeftSpace, trimSpace } from './go-text';
import { findHeredocs } from './heredoc-word';
import { isInstructionName } from './instruction-info';
import { ruleWarning } from './rules';
import { splitCommand, parseWords, splitWhitespace } from './split-command';
import { syntaxError } from './syntax-error';
import type {
  Ast,
  Directive,
  Directives,
  Flag,
  Heredoc,
  InstructionNode,
  LineRange,
  ParseOptions,
  ParseResult,
  Warning,
} from './types';

const HEREDOC_INSTRUCTIONS = new Set(['add', 'copy', 'run']);

/**
 * Dockerfile text → AST with line ranges, parser directives and parser warnings, following
 * BuildKit's parser line by line (frontend/dockerfile/parser). Instruction words are not
 * validated here (unknown keywords become nodes; toInstructions() rejects them), as BuildKit.
 */
export function parse(text: string, options: ParseOptions = {}): ParseResult {
  const filename = options.filename ?? 'Dockerfile';
  const lines = splitLines(text);
  const directives: Directives = { escape: '\\', list: [] };
  // BuildKit reads `# check=` and `# syntax=` with their own rules, before and apart from the
  // parser's directives (a `#!` first line is skipped there, not here; the value ends at a space).
  const check = findDirective('check', text);
  if (check) {
    try {
      directives.check = parseCheck(check.value);
    } catch (err) {
      throw syntaxError(filename, { start: check.line, end: check.line }, (err as Error).message);
    }
  }
  const syntax = detectSyntax(text);
  if (syntax) directives.syntax = syntax.value;
  // bufio.Scanner's token limit: one physical line (with its newline) of at most 64 KiB.
  const tooLong = lines.findIndex((l) => l.length > 16384 && Buffer.byteLength(l) > 65536);
  if (tooLong >= 0) {
    throw syntaxError(filename, { start: tooLong + 1, end: tooLong + 1 }, 'dockerfile line greater than max allowed size of 65535');
  }
  const directiveParser = createDirectiveParser();
  const warnings: Warning[] = [];
  const children: InstructionNode[] = [];
  let escape: '\\' | '`' = '\\';
  let comments: string[] = [];
  let i = 0; // index of the next physical line
  let currentLine = 0;

  const fail = (range: LineRange, message: string): never => {
    throw syntaxError(filename, range, message);
  };

  /** trimNewline, optional left trim, directive detection, comment removal (BuildKit processLine). */
  const processLine = (raw: string, stripLeft: boolean, lineNo: number): string => {
    let token = trimNewline(raw);
    if (stripLeft) token = trimLeftSpace(token);
    let d: Directive | undefined;
    try {
      d = directiveParser.parseLine(token);
    } catch (err) {
      return fail({ start: lineNo, end: lineNo }, (err as Error).message);
    }
    if (d) {
      directives.list.push({ ...d, line: lineNo });
      if (d.name === 'escape') {
        if (d.value !== '`' && d.value !== '\\') {
          fail({ start: lineNo, end: lineNo }, `invalid escape token '${d.value}' does not match \` or \\`);
        }
        escape = d.value as '\\' | '`';
        directives.escape = escape;
      }
    }
    return token.startsWith('#') ? '' : token;
  };

  while (i < lines.length) {
    let raw = lines[i++]!;
    if (currentLine === 0 && raw.startsWith('\ufeff')) raw = raw.slice(1);
    if (isComment(raw)) {
      // A bare `#` line ends the comment block above an instruction.
      const c = trimSpace(raw.slice(1));
      if (c === '') comments = [];
      else comments.push(c);
    }
    const directivesBefore = directives.list.length;
    const first = processLine(raw, true, currentLine + 1);
    if (directives.list.length > directivesBefore) comments.pop(); // directives are not comments
    currentLine++;
    const startLine = currentLine;
    let { line, endOfLine } = trimContinuation(first, escape);
    if (endOfLine && line === '') continue;

    let emptyContinuation = false;
    while (!endOfLine && i < lines.length) {
      const next = lines[i++]!;
      const processed = processLine(next, false, currentLine + 1);
      currentLine++;
      if (isComment(next)) continue; // comment lines inside continuations are dropped
      if (trimLeftSpace(processed) === '') {
        emptyContinuation = true;
        continue;
      }
      const t = trimContinuation(processed, escape);
      endOfLine = t.endOfLine;
      line += t.line;
    }
    if (emptyContinuation) {
      // BuildKit locates this warning on the instruction's last line.
      warnings.push(ruleWarning('NoEmptyContinuation', `Empty continuation line found in: ${line}`, { start: currentLine, end: currentLine }));
    }

    let node: InstructionNode;
    try {
      node = nodeFromLine(line, escape, comments);
    } catch (err) {
      if (err instanceof LineError) fail({ start: startLine, end: currentLine }, err.message);
      throw err;
    }

    if (canContainHeredoc(node) && line.includes('<<')) {
      let docs: Heredoc[];
      try {
        docs = findHeredocs(line);
      } catch (err) {
        return fail({ start: startLine, end: currentLine }, (err as Error).message);
      }
      for (const doc of docs) {
        let terminated = false;
        while (i < lines.length) {
          const body = lines[i++]!;
          currentLine++;
          let candidate = trimNewline(body);
          if (doc.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === doc.name) {
            terminated = true;
            break;
          }
          doc.content += body;
        }
        if (!terminated) fail({ start: startLine, end: currentLine }, 'unterminated heredoc');
        node.heredocs.push(doc);
      }
      if (node.inner) node.inner.heredocs = node.heredocs;
    }
    node.range = { start: startLine, end: currentLine };
    if (node.inner) node.inner.range = { ...node.range };
    children.push(node);
    comments = [];
  }

  if (children.length === 0) {
    if (text.length === 0) fail({ start: 1, end: 1 }, 'the Dockerfile cannot be empty');
    fail({ start: Math.max(currentLine, 1), end: Math.max(currentLine, 1) }, 'file with no instructions');
  }
  const ast: Ast = { children, escape };
  return { ast, directives, warnings };
}

/** Lines with their line endings kept (BuildKit `scanLines`). */
function splitLines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) break;
    out.push(text.slice(start, nl + 1));
    start = nl + 1;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

function trimNewline(s: string): string {
  return s.replace(/[\r\n]+$/, '');
}

function isComment(raw: string): boolean {
  return trimLeftSpace(trimNewline(raw)).startsWith('#');
}

/**
 * The escape token ending a line (before optional blanks) continues it, unless it is itself
 * escaped; a line that is only the token continues too.
 */
function trimContinuation(line: string, escape: string): { line: string; endOfLine: boolean } {
  const e = escape === '\\' ? '\\\\' : '`';
  const re = new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
  const m = re.exec(line);
  if (!m) return { line, endOfLine: true };
  return { line: line.slice(0, m.index) + (m[1] ?? ''), endOfLine: false };
}

/** An error of one logical line; parse() adds the location. */
class LineError extends Error {}

function canContainHeredoc(node: InstructionNode): boolean {
  const target = node.keyword === 'onbuild' && node.inner ? node.inner : node;
  return HEREDOC_INSTRUCTIONS.has(target.keyword) && !target.json;
}

function toFlag(raw: string): Flag {
  const body = raw.startsWith('--') ? raw.slice(2) : raw;
  const eq = body.indexOf('=');
  return eq < 0 ? { name: body, raw } : { name: body.slice(0, eq), value: body.slice(eq + 1), raw };
}

/** BuildKit `newNodeFromLine`: split keyword/flags/rest, then the keyword's argument parser. */
function nodeFromLine(line: string, escape: string, comments: string[]): InstructionNode {
  const { keyword: keywordRaw, flags, rest } = splitCommand(line);
  const keyword = keywordRaw.toLowerCase();
  const node: InstructionNode = {
    keyword,
    keywordRaw,
    flags: flags.map(toFlag),
    args: [],
    json: false,
    rest,
    original: line,
    heredocs: [],
    comments,
    range: { start: 0, end: 0 },
  };
  if (!isInstructionName(keyword)) return node; // rejected later, as BuildKit
  switch (keyword) {
    case 'add':
    case 'copy':
    case 'volume':
      maybeJSONToList(node, rest);
      break;
    case 'cmd':
    case 'entrypoint':
    case 'run':
    case 'shell':
      maybeJSON(node, rest);
      break;
    case 'arg':
      node.args = parseWords(rest, escape);
      break;
    case 'env':
    case 'label':
      nameVal(node, rest, keyword === 'env' ? 'ENV' : 'LABEL', escape);
      break;
    case 'expose':
    case 'from':
      node.args = rest === '' ? [] : splitWhitespace(rest);
      break;
    case 'healthcheck':
      healthConfig(node, rest);
      break;
    case 'maintainer':
    case 'stopsignal':
    case 'user':
    case 'workdir':
      node.args = rest === '' ? [] : [rest];
      break;
    case 'onbuild':
      if (rest !== '') {
        node.inner = nodeFromLine(rest, escape, []);
        node.args = [node.inner.keywordRaw, ...node.inner.args];
      }
      break;
  }
  return node;
}

const NOT_STRING_ARRAY = 'when using JSON array syntax, arrays must be comprised of strings only';

/** A JSON array of strings, or undefined when `rest` is not JSON (then it is shell form). */
function parseJSONArray(rest: string): string[] | undefined {
  const s = trimLeftSpace(rest);
  if (!s.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(s);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (!value.every((v) => typeof v === 'string')) throw new LineError(NOT_STRING_ARRAY);
  return value as string[];
}

function maybeJSON(node: InstructionNode, rest: string): void {
  if (rest === '') return;
  const arr = parseJSONArray(rest);
  if (arr) {
    node.args = arr;
    node.json = true;
  } else {
    node.args = [rest];
  }
}

function maybeJSONToList(node: InstructionNode, rest: string): void {
  const arr = parseJSONArray(rest);
  if (arr) {
    node.args = arr;
    node.json = true;
  } else {
    node.args = rest === '' ? [] : splitWhitespace(rest);
  }
}

function nameVal(node: InstructionNode, rest: string, key: string, escape: string): void {
  const words = parseWords(rest, escape);
  if (words.length === 0) return;
  if (!words[0]!.includes('=')) {
    // Legacy `KEY name value…`: one pair, the value is the rest of the line.
    const parts = splitWhitespace(rest, 2);
    if (parts.length < 2) throw new LineError(`${key} must have two arguments`);
    node.args = [parts[0]!, parts[1]!];
    node.legacyKeyValue = true;
    return;
  }
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq < 0) throw new LineError(`Syntax error - can't find = in ${goQuote(w)}. Must be of the form: name=value`);
    node.args.push(w.slice(0, eq), w.slice(eq + 1));
  }
}

/** HEALTHCHECK: the type word, then the command like CMD (JSON or shell). */
function healthConfig(node: InstructionNode, rest: string): void {
  let sep = 0;
  while (sep < rest.length && !isSpace(rest[sep]!)) sep++;
  let next = sep;
  while (next < rest.length && isSpace(rest[next]!)) next++;
  if (sep === 0) return;
  const typ = rest.slice(0, sep);
  const cmd: InstructionNode = { ...node, args: [], json: false };
  maybeJSON(cmd, rest.slice(next));
  node.args = [typ, ...cmd.args];
  node.json = cmd.json;
}

