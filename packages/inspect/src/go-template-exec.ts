// Executes a parsed Go template over typed values (see go-value.ts), with Go's semantics for
// field chains, variables, truth, range over slices and maps (sorted keys), and the builtin
// functions (and or not len index slice print printf println eq ne lt le gt ge html js urlquery).
import { argString, cmdString, location, TemplateError, type Arg, type Cmd, type Pipe, type TNode } from './go-template-parse';
import { compareGoStrings, concrete, formatValue, isNil, T, truth, typeName, type GoValue } from './go-value';
import { sprint, sprintf, sprintln } from './go-printf';

/** A template function: typed arguments in, a typed value out (throw Error to fail the call). */
export type TemplateFunc = (...args: Array<GoValue | undefined>) => GoValue | undefined;

export interface ExecOptions {
  /** 'error' fails on a missing map key (Docker's raw-JSON fallback); default prints "<no value>". */
  missingKey?: 'invalid' | 'error';
}

class ExecError extends Error {}
class LoopSignal {
  constructor(readonly kind: 'break' | 'continue') {}
}

interface State {
  src: string;
  funcs: Record<string, TemplateFunc>;
  missingKeyError: boolean;
  vars: Array<{ name: string; value: GoValue | undefined }>;
  out: string[];
  /** The node being evaluated, for error context. */
  at: { pos: number; text: string };
}

export function execute(src: string, tree: TNode[], data: GoValue, funcs: Record<string, TemplateFunc>, opts: ExecOptions = {}): string {
  const st: State = { src, funcs, missingKeyError: opts.missingKey === 'error', vars: [{ name: '$', value: data }], out: [], at: { pos: 0, text: '' } };
  try {
    walkList(st, tree, data);
  } catch (err) {
    if (err instanceof ExecError) {
      throw new TemplateError(`template: :${location(src, st.at.pos)}: executing "" at <${st.at.text}>: ${err.message}`);
    }
    throw err;
  }
  return st.out.join('');
}

function fail(msg: string): never {
  throw new ExecError(msg);
}

function walkList(st: State, list: TNode[], dot: GoValue | undefined): void {
  for (const n of list) walk(st, n, dot);
}

function walk(st: State, n: TNode, dot: GoValue | undefined): void {
  switch (n.type) {
    case 'text':
      st.out.push(n.text);
      return;
    case 'action': {
      const v = evalPipe(st, n.pipe, dot);
      if (!n.pipe.decl.length) st.out.push(printable(v));
      return;
    }
    case 'if':
    case 'with': {
      const mark = st.vars.length;
      const v = evalPipe(st, n.pipe, dot);
      if (truth(v)) walkList(st, n.list, n.type === 'with' ? v : dot);
      else if (n.elseList) walkList(st, n.elseList, dot);
      st.vars.length = mark;
      return;
    }
    case 'range':
      return walkRange(st, n, dot);
    case 'break':
    case 'continue':
      throw new LoopSignal(n.type);
  }
}

/** What `{{pipeline}}` prints: pointers are followed first (fmt handles nil). */
function printable(v: GoValue | undefined): string {
  if (v && v.t.k === 'ptr' && v.v !== null && v.v !== undefined) return formatValue({ t: v.t.elem, v: v.v });
  return formatValue(v);
}

type ControlNode = Extract<TNode, { pipe: Pipe; list: TNode[] }>;

function walkRange(st: State, n: ControlNode, dot: GoValue | undefined): void {
  const mark = st.vars.length;
  // The range pipeline itself must not declare the loop variables yet.
  const decl = n.pipe.decl;
  const v = evalPipe(st, { ...n.pipe, decl: [] }, dot);
  const items: Array<[GoValue, GoValue]> = [];
  const c = v ? indirect(v) : undefined;
  if (c && !isNil(c)) {
    if (c.t.k === 'slice') {
      const elem = c.t.elem;
      (c.v as unknown[]).forEach((e, i) => items.push([{ t: T.int, v: i }, { t: elem, v: e }]));
    } else if (c.t.k === 'map') {
      const elem = c.t.elem;
      const o = c.v as Record<string, unknown>;
      for (const k of Object.keys(o).sort(compareGoStrings)) items.push([{ t: T.string, v: k }, { t: elem, v: o[k] }]);
    } else {
      st.at = { pos: n.pipe.pos, text: n.pipe.cmds.map(cmdString).join(' | ') };
      fail(`range can't iterate over ${formatValue(v)}`);
    }
  }
  if (!items.length) {
    if (n.elseList) walkList(st, n.elseList, dot);
    st.vars.length = mark;
    return;
  }
  for (const [k, e] of items) {
    st.vars.length = mark;
    if (decl.length === 1) st.vars.push({ name: decl[0], value: e });
    if (decl.length === 2) st.vars.push({ name: decl[0], value: k }, { name: decl[1], value: e });
    try {
      walkList(st, n.list, e);
    } catch (sig) {
      if (!(sig instanceof LoopSignal)) throw sig;
      if (sig.kind === 'break') break;
    }
  }
  st.vars.length = mark;
}

function indirect(v: GoValue): GoValue {
  let c = concrete(v);
  while (c.t.k === 'ptr' && c.v !== null && c.v !== undefined) c = concrete({ t: c.t.elem, v: c.v });
  return c;
}

function evalPipe(st: State, pipe: Pipe, dot: GoValue | undefined): GoValue | undefined {
  let value: GoValue | undefined;
  let first = true;
  for (const cmd of pipe.cmds) {
    value = evalCommand(st, cmd, dot, first ? undefined : { v: value });
    first = false;
    // Go turns an interface{} result into its dynamic value; a nil one becomes "no value".
    if (value && value.t.k === 'iface') value = value.v === null || value.v === undefined ? undefined : concrete(value);
  }
  if (pipe.decl.length) {
    if (pipe.isAssign) {
      const idx = st.vars.map((x) => x.name).lastIndexOf(pipe.decl[0]);
      st.vars[idx].value = value;
    } else st.vars.push({ name: pipe.decl[0], value });
  }
  return value;
}

function evalCommand(st: State, cmd: Cmd, dot: GoValue | undefined, final?: { v: GoValue | undefined }): GoValue | undefined {
  const [head, ...rest] = cmd.args;
  const hasArgs = rest.length > 0 || final !== undefined;
  switch (head.type) {
    case 'ident': {
      st.at = { pos: cmd.pos, text: cmdString(cmd) };
      return callFunc(st, head.name, cmd, rest, dot, final);
    }
    case 'field':
      return evalChain(st, head, dot, head.names, hasArgs);
    case 'var': {
      const base = lookupVar(st, head.name);
      return evalChain(st, head, base, head.names, hasArgs);
    }
    case 'pipe': {
      const base = evalPipe(st, head.pipe, dot);
      return evalChain(st, head, base, head.names, hasArgs);
    }
    case 'nil':
      st.at = { pos: head.pos, text: 'nil' };
      fail('nil is not a command');
    // eslint-disable-next-line no-fallthrough
    default:
      if (hasArgs) {
        st.at = { pos: head.pos, text: argString(head) };
        fail(`can't give argument to non-function ${argString(head)}`);
      }
      return evalLiteral(head, dot);
  }
}

function evalLiteral(a: Arg, dot: GoValue | undefined): GoValue | undefined {
  switch (a.type) {
    case 'dot':
      return dot;
    case 'string':
      return { t: T.string, v: a.value };
    case 'number':
      return a.isFloat ? { t: T.float, v: a.value } : { t: T.int, v: a.value };
    case 'bool':
      return { t: T.bool, v: a.value };
    case 'nil':
      return { t: T.iface, v: null };
    default:
      throw new Error(`not a literal: ${a.type}`);
  }
}

function lookupVar(st: State, name: string): GoValue | undefined {
  for (let i = st.vars.length - 1; i >= 0; i--) if (st.vars[i].name === name) return st.vars[i].value;
  fail(`undefined variable: ${name}`);
}

function evalChain(st: State, node: Arg, base: GoValue | undefined, names: string[], hasArgs: boolean): GoValue | undefined {
  let v = base;
  if (names.length) st.at = { pos: node.pos, text: argString(node) };
  names.forEach((name, i) => {
    const last = i === names.length - 1;
    v = field(st, v, name);
    if (last && hasArgs) fail(`${name} is not a method but has arguments`);
  });
  return v;
}

function field(st: State, recv: GoValue | undefined, name: string): GoValue | undefined {
  if (!recv) fail(`nil data; no entry for key "${name}"`);
  let c = recv;
  if (c.t.k === 'iface') {
    if (c.v === null || c.v === undefined) fail(`nil pointer evaluating interface {}.${name}`);
    c = concrete(c);
  }
  if (c.t.k === 'ptr') {
    if (c.v === null || c.v === undefined) fail(`nil pointer evaluating ${typeName(c.t)}.${name}`);
    c = { t: c.t.elem, v: c.v };
  }
  if (c.t.k === 'struct') {
    const f = c.t.fields.find((x) => x.name === name);
    if (!f) fail(`can't evaluate field ${name} in type ${typeName(recv.t)}`);
    return { t: f.t, v: (c.v as Record<string, unknown>)[f.json ?? f.name] };
  }
  if (c.t.k === 'map') {
    const o = (c.v ?? {}) as Record<string, unknown>;
    if (Object.prototype.hasOwnProperty.call(o, name)) return { t: c.t.elem, v: o[name] };
    if (st.missingKeyError) fail(`map has no entry for key "${name}"`);
    return undefined;
  }
  fail(`can't evaluate field ${name} in type ${typeName(recv.t)}`);
}

function evalArg(st: State, a: Arg, dot: GoValue | undefined): GoValue | undefined {
  switch (a.type) {
    case 'field':
      return evalChain(st, a, dot, a.names, false);
    case 'var':
      return evalChain(st, a, lookupVar(st, a.name), a.names, false);
    case 'pipe':
      return evalChain(st, a, evalPipe(st, a.pipe, dot), a.names, false);
    case 'ident':
      return callFunc(st, a.name, { pos: a.pos, args: [a] }, [], dot, undefined);
    default:
      return evalLiteral(a, dot);
  }
}

function callFunc(st: State, name: string, cmd: Cmd, argNodes: Arg[], dot: GoValue | undefined, final?: { v: GoValue | undefined }): GoValue | undefined {
  const at = { pos: cmd.pos, text: cmdString(cmd) };
  const args = argNodes.map((a) => evalArg(st, a, dot));
  if (final) args.push(final.v);
  st.at = at;
  const fn = st.funcs[name] ?? BUILTINS[name];
  if (!fn) fail(`"${name}" is not a defined function`);
  try {
    return fn(...args);
  } catch (err) {
    if (err instanceof ExecError || err instanceof TemplateError) throw err;
    fail(`error calling ${name}: ${(err as Error).message}`);
  }
}

// ---- builtins -------------------------------------------------------------------------------

type Kind = 'bool' | 'int' | 'float' | 'string' | 'other';

function basicKind(v: GoValue | undefined): Kind {
  if (!v) return 'other';
  const c = concrete(v);
  switch (c.t.k) {
    case 'bool':
      return 'bool';
    case 'int':
    case 'duration':
      return 'int';
    case 'float':
      return 'float';
    case 'string':
    case 'number':
      return 'string';
    default:
      return 'other';
  }
}

function eq(a: GoValue | undefined, b: GoValue | undefined): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === 'other' || kb === 'other') {
    // Only nil compares with nil among non-basic values.
    const nilA = !a || isNil(concrete(a));
    const nilB = !b || isNil(concrete(b));
    if (nilA && nilB) return true;
    throw new Error(ka === 'other' && kb === 'other' ? 'non-comparable types' : 'incompatible types for comparison');
  }
  if (ka !== kb) throw new Error('incompatible types for comparison');
  return concrete(a!).v === concrete(b!).v || String(concrete(a!).v) === String(concrete(b!).v);
}

function lt(a: GoValue | undefined, b: GoValue | undefined): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === 'other' || ka === 'bool') throw new Error('invalid type for comparison');
  if (ka !== kb) throw new Error('incompatible types for comparison');
  const x = concrete(a!).v;
  const y = concrete(b!).v;
  return ka === 'string' ? compareGoStrings(String(x), String(y)) < 0 : Number(x) < Number(y);
}

const bool = (b: boolean): GoValue => ({ t: T.bool, v: b });
const str = (s: string): GoValue => ({ t: T.string, v: s });

export function goLen(v: GoValue | undefined): number {
  if (!v) throw new Error('len of nil pointer');
  const c = indirect(v);
  switch (c.t.k) {
    case 'string':
    case 'number':
      return Buffer.byteLength(String(c.v ?? ''));
    case 'slice':
      return ((c.v as unknown[]) ?? []).length;
    case 'map':
      return Object.keys((c.v as object) ?? {}).length;
    default:
      throw new Error(`len of type ${typeName(c.t)}`);
  }
}

function toInt(v: GoValue | undefined): number {
  const c = v ? concrete(v) : undefined;
  if (!c || (c.t.k !== 'int' && c.t.k !== 'duration')) throw new Error(`cannot index slice/array with type ${c ? typeName(c.t) : 'nil'}`);
  return Number(c.v);
}

function zero(t: GoValue['t']): GoValue {
  return { t, v: t.k === 'iface' || t.k === 'ptr' || t.k === 'slice' || t.k === 'map' ? null : undefined };
}

function goIndex(item: GoValue | undefined, ...idx: Array<GoValue | undefined>): GoValue | undefined {
  if (!item) throw new Error('index of untyped nil');
  let v: GoValue = item;
  for (const i of idx) {
    const c = indirect(v);
    if (c.t.k === 'slice' || c.t.k === 'string' || c.t.k === 'number') {
      const n = toInt(i);
      const len = c.t.k === 'slice' ? ((c.v as unknown[]) ?? []).length : Buffer.byteLength(String(c.v));
      if (n < 0 || n >= len) throw new Error(`index out of range: ${n}`);
      v = c.t.k === 'slice' ? { t: c.t.elem, v: (c.v as unknown[])[n] } : { t: { k: 'int', name: 'uint8' }, v: Buffer.from(String(c.v))[n] };
    } else if (c.t.k === 'map') {
      const kc = i ? concrete(i) : undefined;
      if (!kc || (kc.t.k !== 'string' && kc.t.k !== 'number')) throw new Error(`value has type ${kc ? typeName(kc.t) : 'nil'}; should be string`);
      const o = (c.v ?? {}) as Record<string, unknown>;
      v = Object.prototype.hasOwnProperty.call(o, String(kc.v)) ? { t: c.t.elem, v: o[String(kc.v)] } : zero(c.t.elem);
    } else if (c.t.k === 'iface' && (c.v === null || c.v === undefined)) {
      throw new Error('index of untyped nil');
    } else throw new Error(`can't index item of type ${typeName(c.t)}`);
  }
  return v;
}

function goSlice(item: GoValue | undefined, ...idx: Array<GoValue | undefined>): GoValue | undefined {
  if (!item) throw new Error('slice of untyped nil');
  const c = indirect(item);
  const ns = idx.map(toInt);
  if (c.t.k === 'string' || c.t.k === 'number') {
    const b = Buffer.from(String(c.v));
    if (ns.length > 2) throw new Error('cannot 3-index slice a string');
    const [from = 0, to = b.length] = ns;
    if (from < 0 || to > b.length || from > to) throw new Error(`index out of range: ${to > b.length ? to : from}`);
    return { t: c.t, v: b.subarray(from, to).toString() };
  }
  if (c.t.k === 'slice') {
    const a = (c.v as unknown[]) ?? [];
    const [from = 0, to = a.length] = ns;
    if (from < 0 || to > a.length || from > to) throw new Error(`index out of range: ${to > a.length ? to : from}`);
    return { t: c.t, v: a.slice(from, to) };
  }
  throw new Error(`can't slice item of type ${typeName(c.t)}`);
}

/** Go's template.HTMLEscapeString. */
function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => ({ '\0': '\uFFFD', '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
}

/** Go's template.JSEscapeString. */
function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (ch === '"') out += '\\"';
    else if (ch === '<') out += '\\u003C';
    else if (ch === '>') out += '\\u003E';
    else if (ch === '&') out += '\\u0026';
    else if (ch === '=') out += '\\u003D';
    else if (c < 0x20) out += `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}

/** Go's url.QueryEscape. */
function queryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s)) {
    const ch = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** html/js/urlquery format their arguments like fmt.Sprint first (one string argument as is). */
function evalArgsString(args: Array<GoValue | undefined>): string {
  if (args.length === 1 && args[0] && concrete(args[0]).t.k === 'string') return String(concrete(args[0]).v);
  return sprint(args.map((a) => a ?? { t: T.iface, v: null }));
}

const defined = (args: Array<GoValue | undefined>) => args.map((a) => a ?? { t: T.iface, v: null });

export const BUILTINS: Record<string, TemplateFunc> = {
  and: (...a) => {
    for (const x of a) if (!truth(x)) return x;
    return a[a.length - 1];
  },
  or: (...a) => {
    for (const x of a) if (truth(x)) return x;
    return a[a.length - 1];
  },
  not: (a) => bool(!truth(a)),
  len: (a) => ({ t: T.int, v: goLen(a) }),
  index: goIndex,
  slice: goSlice,
  print: (...a) => str(sprint(defined(a))),
  println: (...a) => str(sprintln(defined(a))),
  printf: (f, ...a) => {
    const fc = f ? concrete(f) : undefined;
    if (!fc || fc.t.k !== 'string') throw new Error(`wrong type for value; expected string; got ${fc ? typeName(fc.t) : 'nil'}`);
    return str(sprintf(String(fc.v), defined(a)));
  },
  eq: (a, ...bs) => {
    if (!bs.length) throw new Error('missing argument for comparison');
    return bool(bs.some((b) => eq(a, b)));
  },
  ne: (a, b) => bool(!eq(a, b)),
  lt: (a, b) => bool(lt(a, b)),
  le: (a, b) => bool(lt(a, b) || eq(a, b)),
  gt: (a, b) => bool(!lt(a, b) && !eq(a, b)),
  ge: (a, b) => bool(!lt(a, b)),
  html: (...a) => str(htmlEscape(evalArgsString(a))),
  js: (...a) => str(jsEscape(evalArgsString(a))),
  urlquery: (...a) => str(queryEscape(evalArgsString(a))),
};
