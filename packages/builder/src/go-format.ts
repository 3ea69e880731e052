export { goQuote, goQuoteList } from '@strata/gotext';

/** Go's `%v` of a []string: `[a b]`. */
export function goList(list: readonly string[]): string {
  return `[${list.join(' ')}]`;
}

/** Go's `%v` of a map[string]struct{}: `map[53/udp:{} 80/tcp:{}]` (keys sorted, as fmt does). */
export function goSetMap(keys: Iterable<string>): string {
  const sorted = [...new Set(keys)].sort();
  return `map[${sorted.map((k) => `${k}:{}`).join(' ')}]`;
}
