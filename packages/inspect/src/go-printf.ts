// Go's fmt.Sprintf, Sprint and Sprintln for the verbs templates use (%v %s %q %d %x %X %o %b %c
// %t %f %e %g %%, flags - + # 0 space, width, precision), with Go's %!verb(type=value) markers.
import { goQuote } from '@strata/gotext';
import { concrete, formatValue, goFloat, typeName, type GoValue } from './go-value';

function pad(s: string, width: number | undefined, minus: boolean, zero: boolean): string {
  if (width === undefined || [...s].length >= width) return s;
  const fill = width - [...s].length;
  if (minus) return s + ' '.repeat(fill);
  if (zero) {
    const sign = /^[+-]/.test(s) ? s[0] : '';
    return sign + '0'.repeat(fill) + s.slice(sign.length);
  }
  return ' '.repeat(fill) + s;
}

function bad(verb: string, x: GoValue): string {
  return `%!${verb}(${typeName(concrete(x).t)}=${formatValue(x)})`;
}

function formatOne(verb: string, x: GoValue, f: { plus: boolean; sharp: boolean; space: boolean; prec?: number }): string {
  const c = concrete(x);
  const k = c.t.k;
  const isInt = k === 'int' || k === 'duration';
  switch (verb) {
    case 'T':
      return x.t.k === 'iface' && (x.v === null || x.v === undefined) ? '<nil>' : typeName(c.t);
    case 'v':
      if (k === 'string' && f.sharp) return goQuote(String(c.v));
      if (k === 'float') return fmtFloat(Number(c.v), 'g', f.prec, f.plus);
      if (isInt && f.plus && Number(c.v) >= 0) return `+${c.v}`;
      return formatValue(x);
    case 's': {
      if (k === 'int' || k === 'float' || k === 'bool') return bad(verb, x);
      const s = formatValue(x);
      return f.prec !== undefined ? [...s].slice(0, f.prec).join('') : s;
    }
    case 'q':
      if (k === 'string' || k === 'number') return goQuote(String(c.v));
      if (isInt) return `'${String.fromCodePoint(Number(c.v))}'`;
      return bad(verb, x);
    case 'd':
    case 'x':
    case 'X':
    case 'o':
    case 'b':
      if (isInt) {
        const n = BigInt(Math.trunc(Number(c.v)));
        const base = verb === 'd' ? 10 : verb === 'o' ? 8 : verb === 'b' ? 2 : 16;
        let s = (n < 0n ? -n : n).toString(base);
        if (verb === 'X') s = s.toUpperCase();
        if (f.sharp && base === 16) s = (verb === 'X' ? '0X' : '0x') + s;
        if (f.sharp && base === 8) s = `0${s}`;
        return (n < 0n ? '-' : f.plus ? '+' : f.space ? ' ' : '') + s;
      }
      if ((verb === 'x' || verb === 'X') && (k === 'string' || k === 'number')) {
        const h = Buffer.from(String(c.v)).toString('hex');
        return verb === 'X' ? h.toUpperCase() : h;
      }
      return bad(verb, x);
    case 'c':
      return isInt ? String.fromCodePoint(Number(c.v)) : bad(verb, x);
    case 't':
      return k === 'bool' ? String(c.v) : bad(verb, x);
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G':
      if (k === 'float' || isInt) return fmtFloat(Number(c.v), verb.toLowerCase() as 'f' | 'e' | 'g', f.prec, f.plus, verb !== verb.toLowerCase());
      return bad(verb, x);
    default:
      return `%!${verb}(${typeName(c.t)}=${formatValue(x)})`;
  }
}

function fmtFloat(n: number, verb: 'f' | 'e' | 'g', prec: number | undefined, plus: boolean, upper = false): string {
  let s: string;
  if (verb === 'f') s = n.toFixed(prec ?? 6);
  else if (verb === 'e') {
    const [m, e] = n.toExponential(prec ?? 6).split('e');
    s = `${m}e${e[0] === '-' ? '-' : '+'}${e.replace(/^[+-]/, '').padStart(2, '0')}`;
  } else s = prec === undefined ? goFloat(n) : Number(n.toPrecision(prec)).toString();
  if (upper) s = s.toUpperCase();
  return plus && n >= 0 ? `+${s}` : s;
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: GoValue[]): string {
  let out = '';
  let ai = 0;
  let i = 0;
  while (i < format.length) {
    const ch = format[i];
    if (ch !== '%') {
      out += ch;
      i++;
      continue;
    }
    i++;
    const f = { minus: false, plus: false, sharp: false, zero: false, space: false };
    for (; i < format.length && '-+# 0'.includes(format[i]); i++) {
      const c = format[i];
      if (c === '-') f.minus = true;
      else if (c === '+') f.plus = true;
      else if (c === '#') f.sharp = true;
      else if (c === '0') f.zero = true;
      else f.space = true;
    }
    let width: number | undefined;
    let prec: number | undefined;
    const wm = /^\d+/.exec(format.slice(i));
    if (wm) {
      width = Number(wm[0]);
      i += wm[0].length;
    }
    if (format[i] === '.') {
      i++;
      const pm = /^\d+/.exec(format.slice(i));
      prec = pm ? Number(pm[0]) : 0;
      if (pm) i += pm[0].length;
    }
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = format[i++];
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (ai >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const s = formatOne(verb, args[ai++], { plus: f.plus, sharp: f.sharp, space: f.space, prec });
    out += pad(s, width, f.minus, f.zero && !f.minus && verb !== 's' && verb !== 'v' && verb !== 'q');
  }
  if (ai < args.length) {
    out += `%!(EXTRA ${args
      .slice(ai)
      .map((a) => `${typeName(concrete(a).t)}=${formatValue(a)}`)
      .join(', ')})`;
  }
  return out;
}

const isStringish = (x: GoValue) => concrete(x).t.k === 'string';

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(args: GoValue[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && !isStringish(a) && !isStringish(args[i - 1])) out += ' ';
    out += formatValue(a);
  });
  return out;
}

/** fmt.Sprintln: always spaces, then a newline. */
export function sprintln(args: GoValue[]): string {
  return `${args.map((a) => formatValue(a)).join(' ')}\n`;
}
