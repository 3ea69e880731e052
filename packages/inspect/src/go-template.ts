// `--format` templates as the Docker CLI understands them: Go text/template plus Docker's
// functions (json split join title lower upper pad truncate), the `table` prefix for lists, and
// `docker inspect`'s retry on the raw JSON when a template fails on the typed value.
import { BUILTINS, execute, type ExecOptions, type TemplateFunc } from './go-template-exec';
import { parseTemplate, TemplateError, type TNode } from './go-template-parse';
import { concrete, dynamic, formatValue, goJson, T, toJsonValue, typeName, type GoType, type GoValue } from './go-value';

export { TemplateError };
export type { TemplateFunc };

function asString(v: GoValue | undefined): string {
  const c = v ? concrete(v) : undefined;
  if (!c || c.t.k !== 'string') throw new Error(`wrong type for value; expected string; got ${c ? typeName(c.t) : 'interface {}'}`);
  return String(c.v ?? '');
}

function asInt(v: GoValue | undefined): number {
  const c = v ? concrete(v) : undefined;
  if (!c || c.t.k !== 'int') throw new Error(`wrong type for value; expected int; got ${c ? typeName(c.t) : 'interface {}'}`);
  return Number(c.v);
}

/** Go's strings.Title: upper-case the first letter of each word. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    const sep = !/[\p{L}\p{N}_]/u.test(prev);
    out += sep ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

const str = (s: string): GoValue => ({ t: T.string, v: s });

/** Docker CLI's template functions (cli/templates). */
export const DOCKER_FUNCS: Record<string, TemplateFunc> = {
  // SetEscapeHTML(false), except for values whose MarshalJSON already escaped (list rows).
  json: (v) => str(goJson(jsonOf(v), undefined, !!v && v.t.k === 'struct' && v.t.jsonEscapeHTML === true)),
  split: (s, sep) => ({ t: T.slice(T.string), v: splitGo(asString(s), asString(sep)) }),
  join: (a, sep) => {
    const c = a ? concrete(a) : undefined;
    if (!c || c.t.k !== 'slice' || concrete({ t: c.t.elem, v: '' }).t.k !== 'string') {
      throw new Error(`wrong type for value; expected []string; got ${c ? typeName(c.t) : 'interface {}'}`);
    }
    return str(((c.v as unknown[]) ?? []).map((e) => formatValue({ t: c.t.k === 'slice' ? c.t.elem : T.string, v: e })).join(asString(sep)));
  },
  title: (s) => str(title(asString(s))),
  lower: (s) => str(asString(s).toLowerCase()),
  upper: (s) => str(asString(s).toUpperCase()),
  pad: (s, pre, post) => str(' '.repeat(Math.max(0, asInt(pre))) + asString(s) + ' '.repeat(Math.max(0, asInt(post)))),
  truncate: (s, n) => {
    const chars = [...asString(s)];
    const len = asInt(n);
    return str(chars.length < len ? chars.join('') : chars.slice(0, len).join(''));
  },
};

function splitGo(s: string, sep: string): string[] {
  if (sep === '') return [...s];
  return s.split(sep);
}

function jsonOf(v: GoValue | undefined): unknown {
  return v ? toJsonValue(v) : null;
}

export interface Template {
  readonly source: string;
  /** Render once over `data`; throws TemplateError (Go's wording) when execution fails. */
  execute(data: GoValue, opts?: ExecOptions): string;
}

/** Parse a Go template with Docker's functions (plus `extraFuncs`). Throws TemplateError. */
export function compileTemplate(source: string, extraFuncs: Record<string, TemplateFunc> = {}): Template {
  const funcs = { ...DOCKER_FUNCS, ...extraFuncs };
  const tree: TNode[] = parseTemplate(source, { funcs: new Set([...Object.keys(BUILTINS), ...Object.keys(funcs)]) });
  return { source, execute: (data, opts) => execute(source, tree, data, funcs, opts) };
}

/** A typed value for the template engine. Without a type, data is read like JSON decoded into `interface{}`. */
export function goValue(data: unknown, type?: GoType): GoValue {
  return type ? { t: type, v: data } : { t: T.iface, v: data };
}

/**
 * `docker inspect --format`: for each item, run the template on the typed value; when that fails,
 * run it again on the raw JSON (as Docker's TemplateInspector does, with missingkey=error), so
 * `{{.Id}}` and `{{len .Size}}` behave as in Docker. One line per item.
 */
export function renderInspect(tpl: Template, items: Array<{ typed: GoValue; raw: unknown }>): string {
  let out = '';
  for (const item of items) {
    let text: string;
    try {
      text = tpl.execute(item.typed);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      text = tpl.execute(dynamic(JSON.parse(JSON.stringify(item.raw))), { missingKey: 'error' });
    }
    out += `${text}\n`;
  }
  return out;
}

/** A `--format` value for list commands: `json`, `table [TEMPLATE]`, or a Go template. */
export type ListFormat = { kind: 'json' } | { kind: 'table'; template?: Template } | { kind: 'template'; template: Template };

export function parseListFormat(format: string | undefined): ListFormat {
  if (format === undefined || format === '' || format === 'table') return { kind: 'table' };
  if (format === 'json') return { kind: 'json' };
  if (format.startsWith('table ') || format.startsWith('table\t')) {
    return { kind: 'table', template: compileTemplate(unescapeTabs(format.slice(6).trim())) };
  }
  return { kind: 'template', template: compileTemplate(unescapeTabs(format.trim())) };
}

/** Docker lets people type `\t` for a tab in --format (its formatter replaces the two characters). */
function unescapeTabs(s: string): string {
  return s.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

/**
 * Rows through a template, Docker-style: with `header` (table form) a header line is made by
 * running the template over the column titles, and cells separated by tabs are aligned like
 * Go's tabwriter (min width 10, padding 3) as `docker … --format 'table …'` does.
 */
export function renderRows(tpl: Template, rows: GoValue[], header?: Record<string, string>): string {
  const lines: string[] = [];
  if (header) lines.push(tpl.execute(goValue(header, { k: 'struct', name: 'header', fields: Object.keys(header).map((name) => ({ name, t: T.string })) })));
  for (const r of rows) lines.push(tpl.execute(r));
  const text = `${lines.join('\n')}\n`;
  return header ? tabwrite(text) : text;
}

/** Go's text/tabwriter with Docker's settings (minwidth 10, tabwidth 1, padding 3, spaces). */
export function tabwrite(text: string, minWidth = 10, padding = 3): string {
  const lines = text.split('\n');
  const cells = lines.map((l) => l.split('\t'));
  // Column widths over consecutive lines that have that column (tabwriter's blocks).
  const widths = cells.map((row) => row.map(() => 0));
  const maxCols = Math.max(...cells.map((r) => r.length));
  for (let col = 0; col < maxCols - 1; col++) {
    let start = 0;
    while (start < cells.length) {
      if (cells[start].length - 1 <= col) {
        start++;
        continue;
      }
      let end = start;
      let w = 0;
      while (end < cells.length && cells[end].length - 1 > col) {
        w = Math.max(w, [...cells[end][col]].length + padding);
        end++;
      }
      w = Math.max(w, minWidth);
      for (let i = start; i < end; i++) widths[i][col] = w;
      start = end;
    }
  }
  return cells
    .map((row, i) => row.map((c, j) => (j < row.length - 1 ? c + ' '.repeat(Math.max(0, widths[i][j] - [...c].length)) : c)).join(''))
    .join('\n');
}
