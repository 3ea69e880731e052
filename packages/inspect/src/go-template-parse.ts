// Go text/template syntax → a tree. Covers what `--format` users write: actions with trim markers,
// comments, pipelines, variables (declare/assign), parenthesised pipelines, field chains, string /
// raw / number / bool / nil literals, if/else if/else, range (with $i, $v), with, break, continue.
// Errors read like Go's ("template: :1: unclosed action") so Docker users recognise them.

import { StrataError } from '@strata/errors';

/** A template that does not parse or fails while executing (message as Go words it). */
export class TemplateError extends StrataError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

export type Arg =
  | { type: 'field'; pos: number; names: string[] }
  | { type: 'var'; pos: number; name: string; names: string[] }
  | { type: 'dot'; pos: number }
  | { type: 'string'; pos: number; value: string; text: string }
  | { type: 'number'; pos: number; value: number; isFloat: boolean; text: string }
  | { type: 'bool'; pos: number; value: boolean }
  | { type: 'nil'; pos: number }
  | { type: 'ident'; pos: number; name: string }
  | { type: 'pipe'; pos: number; pipe: Pipe; names: string[] };

export interface Cmd {
  pos: number;
  args: Arg[];
}
export interface Pipe {
  pos: number;
  decl: string[];
  isAssign: boolean;
  cmds: Cmd[];
}
export type TNode =
  | { type: 'text'; text: string }
  | { type: 'action'; pos: number; pipe: Pipe }
  | { type: 'if' | 'with' | 'range'; pos: number; pipe: Pipe; list: TNode[]; elseList?: TNode[] }
  | { type: 'break' | 'continue'; pos: number };

interface Tok {
  t: 'field' | 'var' | 'dot' | 'string' | 'raw' | 'char' | 'number' | 'ident' | 'pipe' | 'lparen' | 'rparen' | 'assign' | 'declare' | 'comma' | 'end';
  v: string;
  pos: number;
  /** Whitespace came before it (a field right after a term, without space, extends a chain). */
  sp?: boolean;
}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue', 'nil', 'true', 'false']);

export interface ParseOptions {
  /** Known function names (parse fails on others, as in Go). */
  funcs: Set<string>;
}

export function parseTemplate(src: string, opts: ParseOptions): TNode[] {
  return new Parser(src, opts).parse();
}

/** Go's ErrorContext location: "line:col" with a 0-based byte column. */
export function location(src: string, pos: number): string {
  const before = Buffer.from(src).subarray(0, pos).toString();
  const line = before.split('\n').length;
  const col = Buffer.byteLength(before) - (before.lastIndexOf('\n') + 1);
  return `${line}:${col}`;
}

class Parser {
  private i = 0;
  private toks: Tok[] = [];
  private k = 0;
  private vars: string[][] = [['$']];
  private loops = 0;

  constructor(
    private readonly src: string,
    private readonly opts: ParseOptions,
  ) {}

  private lineAt(pos: number): number {
    return this.src.slice(0, pos).split('\n').length;
  }

  private fail(msg: string, pos = this.i): never {
    throw new TemplateError(`template: :${this.lineAt(pos)}: ${msg}`);
  }

  parse(): TNode[] {
    const [list, stop] = this.list();
    if (stop) this.fail(`unexpected {{${stop.word}}}`, stop.pos);
    return list;
  }

  /** Parse nodes until EOF or an {{else}}/{{end}} (returned as `stop`). */
  private list(): [TNode[], { word: 'else' | 'end'; pos: number; rest: Tok[] } | undefined] {
    const out: TNode[] = [];
    for (;;) {
      const open = this.src.indexOf('{{', this.i);
      let text = this.src.slice(this.i, open < 0 ? undefined : open);
      if (open < 0) {
        if (text) out.push({ type: 'text', text });
        this.i = this.src.length;
        return [out, undefined];
      }
      // "{{- " trims the whitespace before the action; "{{-3}}" is a number, not a trim marker.
      const trimLeft = this.src[open + 2] === '-' && /[ \t\r\n]/.test(this.src[open + 3] ?? '');
      if (trimLeft) text = text.replace(/[ \t\r\n]+$/, '');
      if (text) out.push({ type: 'text', text });
      const start = open + 2 + (trimLeft ? 2 : 0);
      const { toks, end, trimRight } = this.lexAction(start);
      this.i = end;
      if (trimRight) {
        const m = /^[ \t\r\n]*/.exec(this.src.slice(this.i));
        this.i += m![0].length;
      }
      if (toks === null) continue; // comment
      this.toks = toks;
      this.k = 0;
      const first = this.toks[0];
      if (first.t === 'end') this.fail('missing value for command', first.pos);
      if (first.t === 'ident' && KEYWORDS.has(first.v) && !['nil', 'true', 'false'].includes(first.v)) {
        const word = first.v;
        this.k++;
        if (word === 'end' || word === 'else') {
          return [out, { word, pos: first.pos, rest: this.toks.slice(this.k) }];
        }
        if (word === 'if' || word === 'with' || word === 'range') {
          out.push(this.control(word, first.pos));
          continue;
        }
        if (word === 'break' || word === 'continue') {
          if (!this.loops) this.fail(`{{${word}}} outside {{range}}`, first.pos);
          this.expectEnd(word);
          out.push({ type: word, pos: first.pos });
          continue;
        }
        this.fail(`{{${word}}} is not supported in --format templates`, first.pos);
      }
      const pipe = this.pipeline('command', false);
      this.expectEnd('command');
      out.push({ type: 'action', pos: first.pos, pipe });
    }
  }

  private expectEnd(ctx: string): void {
    const t = this.toks[this.k];
    if (t.t !== 'end') this.fail(`unexpected ${describe(t)} in ${ctx}`, t.pos);
  }

  private control(word: 'if' | 'with' | 'range', pos: number): TNode {
    this.vars.push([]);
    const pipe = this.pipeline(word, word === 'range');
    this.expectEnd(word);
    if (word === 'range') this.loops++;
    const [list, stop] = this.list();
    if (word === 'range') this.loops--;
    if (!stop) this.fail('unexpected EOF', this.src.length);
    let elseList: TNode[] | undefined;
    if (stop.word === 'else') {
      if (stop.rest[0].t === 'ident' && (stop.rest[0].v === 'if' || stop.rest[0].v === 'with') && word !== 'range') {
        // {{else if …}} / {{else with …}}: a nested control that shares our {{end}}.
        if (stop.rest[0].v !== word) this.fail(`unexpected ${stop.rest[0].v} in else`, stop.rest[0].pos);
        this.toks = stop.rest;
        this.k = 1;
        this.vars.pop();
        return { type: word, pos, pipe, list, elseList: [this.control(word, stop.rest[0].pos)] };
      }
      if (stop.rest[0].t !== 'end') this.fail(`unexpected ${describe(stop.rest[0])} in else`, stop.rest[0].pos);
      const [els, stop2] = this.list();
      if (!stop2) this.fail('unexpected EOF', this.src.length);
      if (stop2.word !== 'end') this.fail('expected end; found {{else}}', stop2.pos);
      elseList = els;
    }
    this.vars.pop();
    return { type: word, pos, pipe, list, elseList };
  }

  private declared(name: string): boolean {
    return this.vars.some((s) => s.includes(name));
  }

  private pipeline(ctx: string, allowTwo: boolean): Pipe {
    const pos = this.toks[this.k].pos;
    const decl: string[] = [];
    let isAssign = false;
    // $x := / $x = / $i, $v :=
    const t0 = this.toks[this.k];
    if (t0.t === 'var') {
      const t1 = this.toks[this.k + 1];
      if (t1.t === 'declare' || t1.t === 'assign') {
        decl.push(t0.v);
        isAssign = t1.t === 'assign';
        this.k += 2;
      } else if (t1.t === 'comma' && allowTwo && this.toks[this.k + 2]?.t === 'var' && this.toks[this.k + 3]?.t === 'declare') {
        decl.push(t0.v, this.toks[this.k + 2].v);
        this.k += 4;
      }
    }
    if (isAssign) {
      if (!this.declared(decl[0])) this.fail(`undefined variable "${decl[0]}"`, t0.pos);
    }
    const cmds: Cmd[] = [];
    for (;;) {
      const t = this.toks[this.k];
      if (t.t === 'end' || t.t === 'rparen') break;
      cmds.push(this.command());
      const n = this.toks[this.k];
      if (n.t === 'pipe') {
        this.k++;
        if (this.toks[this.k].t === 'end' || this.toks[this.k].t === 'rparen') this.fail('missing command after |', n.pos);
        continue;
      }
      if (n.t !== 'end' && n.t !== 'rparen') this.fail(`unexpected ${describe(n)} in operand`, n.pos);
    }
    if (!cmds.length) this.fail(`missing value for ${ctx}`, pos);
    if (!isAssign) for (const d of decl) this.vars[this.vars.length - 1].push(d);
    return { pos, decl, isAssign, cmds };
  }

  private command(): Cmd {
    const pos = this.toks[this.k].pos;
    const args: Arg[] = [];
    for (;;) {
      const t = this.toks[this.k];
      if (t.t === 'end' || t.t === 'rparen' || t.t === 'pipe') break;
      args.push(this.operand());
    }
    if (!args.length) this.fail('empty command', pos);
    return { pos, args };
  }

  private operand(): Arg {
    const t = this.toks[this.k++];
    let arg: Arg;
    switch (t.t) {
      case 'field':
        arg = { type: 'field', pos: t.pos, names: [t.v.slice(1)] };
        break;
      case 'var':
        if (!this.declared(t.v)) this.fail(`undefined variable "${t.v}"`, t.pos);
        arg = { type: 'var', pos: t.pos, name: t.v, names: [] };
        break;
      case 'dot':
        arg = { type: 'dot', pos: t.pos };
        break;
      case 'string':
        arg = { type: 'string', pos: t.pos, value: unquote(t.v, () => this.fail(`bad syntax: ${t.v}`, t.pos)), text: t.v };
        break;
      case 'raw':
        arg = { type: 'string', pos: t.pos, value: t.v.slice(1, -1), text: t.v };
        break;
      case 'char': {
        const s = unquote(`"${t.v.slice(1, -1).replace(/"/g, '\\"')}"`, () => this.fail(`malformed character constant: ${t.v}`, t.pos));
        arg = { type: 'number', pos: t.pos, value: s.codePointAt(0) ?? 0, isFloat: false, text: t.v };
        break;
      }
      case 'number': {
        const v = parseGoNumber(t.v);
        if (v === undefined) this.fail(`bad number syntax: "${t.v}"`, t.pos);
        arg = { type: 'number', pos: t.pos, value: v.value, isFloat: v.isFloat, text: t.v };
        break;
      }
      case 'ident':
        if (t.v === 'true' || t.v === 'false') arg = { type: 'bool', pos: t.pos, value: t.v === 'true' };
        else if (t.v === 'nil') arg = { type: 'nil', pos: t.pos };
        else if (KEYWORDS.has(t.v)) this.fail(`unexpected <${t.v}> in operand`, t.pos);
        else {
          if (!this.opts.funcs.has(t.v)) this.fail(`function "${t.v}" not defined`, t.pos);
          arg = { type: 'ident', pos: t.pos, name: t.v };
        }
        break;
      case 'lparen': {
        const pipe = this.pipeline('parenthesized pipeline', false);
        const close = this.toks[this.k];
        if (close.t !== 'rparen') this.fail('unclosed left paren', t.pos);
        this.k++;
        arg = { type: 'pipe', pos: t.pos, pipe, names: [] };
        break;
      }
      default:
        this.fail(`unexpected ${describe(t)} in operand`, t.pos);
    }
    // A field chain after an operand: $x.A.B, (pipe).A, .A.B
    let chained = false;
    while (this.toks[this.k].t === 'field' && !this.toks[this.k].sp) {
      const f = this.toks[this.k++];
      if (arg.type === 'field') {
        arg.names.push(f.v.slice(1));
        if (!chained) arg.pos = f.pos; // Go reports a chain at its second link
        chained = true;
      } else if (arg.type === 'var' || arg.type === 'pipe') arg.names.push(f.v.slice(1));
      else this.fail(`unexpected . after term "${argString(arg)}"`, f.pos);
    }
    return arg;
  }

  /** Tokens of one action, from `start` (after "{{" and any trim marker) to its "}}". */
  private lexAction(start: number): { toks: Tok[] | null; end: number; trimRight: boolean } {
    const s = this.src;
    let i = start;
    // Comments: {{/* … */}} with optional trim markers around.
    const ws = /^[ \t\r\n]*/.exec(s.slice(i))![0].length;
    if (s.startsWith('/*', i + (s[start - 1] === '-' ? ws : 0)) || s.startsWith('/*', i)) {
      const cstart = s.startsWith('/*', i) ? i : i + ws;
      const cend = s.indexOf('*/', cstart + 2);
      if (cend < 0) this.fail('unclosed comment', cstart);
      let j = cend + 2;
      let trimRight = false;
      if (/^[ \t\r\n]+-}}/.test(s.slice(j))) {
        j += /^[ \t\r\n]+/.exec(s.slice(j))![0].length + 1;
        trimRight = true;
      }
      if (!s.startsWith('}}', j)) this.fail('comment ends before closing delimiter', cstart);
      return { toks: null, end: j + 2, trimRight };
    }
    const toks: Tok[] = [];
    let parens = 0;
    let spaced = false;
    for (;;) {
      if (i >= s.length) this.fail('unclosed action', start);
      const c = s[i];
      if (/[ \t\r\n]/.test(c)) {
        const m = /^[ \t\r\n]+/.exec(s.slice(i))![0];
        if (s.startsWith('-}}', i + m.length)) {
          if (parens) this.fail('unclosed left paren', i);
          toks.push({ t: 'end', v: '', pos: i });
          return { toks, end: i + m.length + 3, trimRight: true };
        }
        i += m.length;
        spaced = true;
        continue;
      }
      if (s.startsWith('}}', i)) {
        if (parens) this.fail('unclosed left paren', i);
        toks.push({ t: 'end', v: '', pos: i });
        return { toks, end: i + 2, trimRight: false };
      }
      const pos = i;
      const rest = s.slice(i);
      const before = toks.length;
      let m: RegExpExecArray | null;
      if (c === '|') {
        toks.push({ t: 'pipe', v: c, pos });
        i++;
      } else if (c === '(') {
        parens++;
        toks.push({ t: 'lparen', v: c, pos });
        i++;
      } else if (c === ')') {
        if (!parens) this.fail('unexpected right paren', pos);
        parens--;
        toks.push({ t: 'rparen', v: c, pos });
        i++;
      } else if (c === ',') {
        toks.push({ t: 'comma', v: c, pos });
        i++;
      } else if (rest.startsWith(':=')) {
        toks.push({ t: 'declare', v: ':=', pos });
        i += 2;
      } else if (c === '=') {
        toks.push({ t: 'assign', v: '=', pos });
        i++;
      } else if (c === '"') {
        m = /^"(?:[^"\\\n]|\\.)*"/.exec(rest);
        if (!m) this.fail('unterminated quoted string', pos);
        toks.push({ t: 'string', v: m[0], pos });
        i += m[0].length;
      } else if (c === '`') {
        const e = s.indexOf('`', i + 1);
        if (e < 0) this.fail('unterminated raw quoted string', pos);
        toks.push({ t: 'raw', v: s.slice(i, e + 1), pos });
        i = e + 1;
      } else if (c === "'") {
        m = /^'(?:[^'\\\n]|\\.[^']*)'/.exec(rest);
        if (!m) this.fail('unterminated character constant', pos);
        toks.push({ t: 'char', v: m[0], pos });
        i += m[0].length;
      } else if ((m = /^\$[\p{L}_\p{Nd}]*/u.exec(rest))) {
        toks.push({ t: 'var', v: m[0], pos });
        i += m[0].length;
      } else if ((m = /^\.[\p{L}_][\p{L}_\p{Nd}]*/u.exec(rest))) {
        toks.push({ t: 'field', v: m[0], pos });
        i += m[0].length;
      } else if ((m = /^[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?)i?/.exec(rest)) && (c !== '.' || /\d/.test(rest[1] ?? ''))) {
        toks.push({ t: 'number', v: m[0], pos });
        i += m[0].length;
      } else if (c === '.') {
        toks.push({ t: 'dot', v: '.', pos });
        i++;
      } else if ((m = /^[\p{L}_][\p{L}_\p{Nd}]*/u.exec(rest))) {
        toks.push({ t: 'ident', v: m[0], pos });
        i += m[0].length;
      } else {
        const cp = s.codePointAt(i)!;
        this.fail(`bad character U+${cp.toString(16).toUpperCase().padStart(4, '0')} '${String.fromCodePoint(cp)}'`, pos);
      }
      if (toks.length > before) toks[toks.length - 1].sp = spaced;
      spaced = false;
    }
  }
}

function describe(t: Tok): string {
  if (t.t === 'end') return '<end of action>';
  if (t.t === 'rparen') return '")"';
  return `<${t.v}>`;
}

function parseGoNumber(text: string): { value: number; isFloat: boolean } | undefined {
  const t = text.replace(/_/g, '');
  if (t.endsWith('i')) return undefined;
  const neg = t.startsWith('-');
  const body = t.replace(/^[+-]/, '');
  let value: number;
  let isFloat = false;
  if (/^0[xX]/.test(body)) value = parseInt(body.slice(2), 16);
  else if (/^0[bB]/.test(body)) value = parseInt(body.slice(2), 2);
  else if (/^0[oO]/.test(body)) value = parseInt(body.slice(2), 8);
  else if (/^0\d+$/.test(body)) value = parseInt(body, 8);
  else {
    value = Number(body);
    isFloat = /[.eE]/.test(body);
  }
  if (Number.isNaN(value)) return undefined;
  return { value: neg ? -value : value, isFloat };
}

/** Go's strconv.Unquote for a double-quoted literal. */
function unquote(lit: string, fail: () => never): string {
  const body = lit.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = body[++i];
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', '"': '"', "'": "'" };
    if (n in simple) out += simple[n];
    else if (n === 'x') {
      out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (n === 'u' || n === 'U') {
      const len = n === 'u' ? 4 : 8;
      out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 1 + len), 16));
      i += len;
    } else if (/[0-7]/.test(n)) {
      out += String.fromCharCode(parseInt(body.slice(i, i + 3), 8));
      i += 2;
    } else fail();
  }
  return out;
}

/** How Go prints a node in "executing … at <node>" errors. */
export function argString(a: Arg): string {
  switch (a.type) {
    case 'field':
      return a.names.map((n) => `.${n}`).join('');
    case 'var':
      return a.name + a.names.map((n) => `.${n}`).join('');
    case 'dot':
      return '.';
    case 'string':
      return a.text;
    case 'number':
      return a.text;
    case 'bool':
      return String(a.value);
    case 'nil':
      return 'nil';
    case 'ident':
      return a.name;
    case 'pipe':
      return `(${pipeString(a.pipe)})${a.names.map((n) => `.${n}`).join('')}`;
  }
}

export function cmdString(c: Cmd): string {
  return c.args.map(argString).join(' ');
}

export function pipeString(p: Pipe): string {
  const d = p.decl.length ? `${p.decl.join(', ')} ${p.isAssign ? '=' : ':='} ` : '';
  return d + p.cmds.map(cmdString).join(' | ');
}
