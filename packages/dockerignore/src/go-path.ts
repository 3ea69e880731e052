/**
 * The two bits of Go's standard library that decide how Docker reads a pattern: `strings.TrimSpace`
 * (Unicode White_Space, which is not JavaScript's `trim()`: U+0085 is space in Go, U+FEFF is not)
 * and `path.Clean` (lexical: collapse `//`, drop `.`, resolve `x/..`, drop a trailing `/`).
 */

const GO_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const TRIM_RE = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, 'g');

export function goTrimSpace(s: string): string {
  return s.replace(TRIM_RE, '');
}

export function goClean(path: string): string {
  if (path === '') return '.';
  const rooted = path[0] === '/';
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}
