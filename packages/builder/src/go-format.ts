/** Go's `%q` of a string (strconv.Quote for printable ASCII and common escapes). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Go's `%q` of a []string: `["a" "b"]` (what BuildKit writes for CMD/ENTRYPOINT history). */
export function goQuoteList(list: readonly string[]): string {
  return `[${list.map(goQuote).join(' ')}]`;
}

/** Go's `%v` of a []string: `[a b]`. */
export function goList(list: readonly string[]): string {
  return `[${list.join(' ')}]`;
}

/** Go's `%v` of a map[string]struct{}: `map[53/udp:{} 80/tcp:{}]` (keys sorted, as fmt does). */
export function goSetMap(keys: Iterable<string>): string {
  const sorted = [...new Set(keys)].sort();
  return `map[${sorted.map((k) => `${k}:{}`).join(' ')}]`;
}
