/** Does the pattern use Go `filepath.Match` wildcards (`*`, `?`, `[`)? */
export function hasWildcard(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

/**
 * Go `filepath.Match` as a RegExp over a whole slash-separated path: `*` and `?` never match `/`,
 * `[...]`/`[^...]` classes with ranges, `\` escapes the next character.
 */
export function globToRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]);
    else if (c === '[') {
      let j = i + 1;
      let cls = '';
      if (pattern[j] === '^' || pattern[j] === '!') {
        cls += '^';
        j++;
      }
      let closed = false;
      for (; j < pattern.length; j++) {
        const d = pattern[j];
        if (d === ']' && j > i + 1 + (cls === '^' ? 1 : 0)) {
          closed = true;
          break;
        }
        if (d === '\\' && j + 1 < pattern.length) cls += `\\${pattern[++j]}`;
        else if (d === '-' ) cls += '-';
        else cls += d === ']' || d === '[' || d === '^' ? `\\${d}` : d;
      }
      if (!closed) throw new Error(`syntax error in pattern ${JSON.stringify(pattern)}`);
      re += `(?!/)[${cls}]`;
      i = j;
    } else re += escapeRe(c);
  }
  return new RegExp(`${re}$`, 's');
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
