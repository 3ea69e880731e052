// Go's path.Match / filepath.Match (they agree on '/'-separated paths), ported on UTF-8 bytes so
// that invalid UTF-8 and class ranges behave as in Go: '*' and '?' never match '/', '[...]' and
// '[^...]' classes with ranges, '\\' escapes. The one glob of strata: .dockerignore's syntax
// check, COPY/ADD wildcards, `image ls` reference filters.

const SLASH = 0x2f;

/** One UTF-8 rune at `at` of `b` as Go's DecodeRune reads it: [rune, size], [0xfffd, 1] when invalid. */
function decodeRune(b: Uint8Array, at: number): [number, number] {
  const c = b[at];
  if (c < 0x80) return [c, 1];
  const need = c >= 0xf8 ? -1 : c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : -1;
  if (need < 0) return [0xfffd, 1];
  let r = c & (0x3f >> need);
  for (let k = 1; k <= need; k++) {
    const d = b[at + k];
    if (d === undefined || (d & 0xc0) !== 0x80) return [0xfffd, 1];
    r = (r << 6) | (d & 0x3f);
  }
  if (r < [0, 0x80, 0x800, 0x10000][need] || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) return [0xfffd, 1];
  return [r, need + 1];
}

type ChunkResult = Uint8Array | false | 'bad';

/** Go's getEsc: one class character (maybe escaped) and the rest, or 'bad'. */
function getEsc(chunk: Uint8Array): [number, Uint8Array] | 'bad' {
  if (chunk.length === 0 || chunk[0] === 0x2d || chunk[0] === 0x5d) return 'bad';
  let c = chunk;
  if (c[0] === 0x5c) {
    c = c.subarray(1);
    if (c.length === 0) return 'bad';
  }
  const [r, n] = decodeRune(c, 0);
  if (r === 0xfffd && n === 1) return 'bad';
  const rest = c.subarray(n);
  return rest.length === 0 ? 'bad' : [r, rest];
}

/** Go's matchChunk: the rest of `s` after `chunk` matched its start, false, or 'bad' (ErrBadPattern). */
function matchChunk(chunk: Uint8Array, s: Uint8Array): ChunkResult {
  let failed = false;
  while (chunk.length > 0) {
    failed = failed || s.length === 0;
    switch (chunk[0]) {
      case 0x5b: {
        let r = 0;
        if (!failed) {
          const [rune, n] = decodeRune(s, 0);
          r = rune;
          s = s.subarray(n);
        }
        chunk = chunk.subarray(1);
        let negated = false;
        if (chunk.length > 0 && chunk[0] === 0x5e) {
          negated = true;
          chunk = chunk.subarray(1);
        }
        let match = false;
        for (let nrange = 0; ; nrange++) {
          if (chunk.length > 0 && chunk[0] === 0x5d && nrange > 0) {
            chunk = chunk.subarray(1);
            break;
          }
          const lo = getEsc(chunk);
          if (lo === 'bad') return 'bad';
          let hi = lo[0];
          chunk = lo[1];
          if (chunk[0] === 0x2d) {
            const h = getEsc(chunk.subarray(1));
            if (h === 'bad') return 'bad';
            [hi, chunk] = h;
          }
          match = match || (lo[0] <= r && r <= hi);
        }
        failed = failed || match === negated;
        break;
      }
      case 0x3f:
        if (!failed) {
          failed = s[0] === SLASH;
          s = s.subarray(decodeRune(s, 0)[1]);
        }
        chunk = chunk.subarray(1);
        break;
      default:
        if (chunk[0] === 0x5c) {
          chunk = chunk.subarray(1);
          if (chunk.length === 0) return 'bad';
        }
        if (!failed) {
          failed = chunk[0] !== s[0];
          s = s.subarray(1);
        }
        chunk = chunk.subarray(1);
    }
  }
  return failed ? false : s;
}

/** Go's scanChunk: [star, chunk, rest]. */
function scanChunk(p: Uint8Array): [boolean, Uint8Array, Uint8Array] {
  let star = false;
  while (p.length > 0 && p[0] === 0x2a) {
    p = p.subarray(1);
    star = true;
  }
  let inRange = false;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === 0x5c) {
      if (i + 1 < p.length) i++;
    } else if (p[i] === 0x5b) inRange = true;
    else if (p[i] === 0x5d) inRange = false;
    else if (p[i] === 0x2a && !inRange) return [star, p.subarray(0, i), p.subarray(i)];
  }
  return [star, p, p.subarray(p.length)];
}

function goMatch(pattern: Uint8Array, name: Uint8Array): boolean | 'bad' {
  outer: while (pattern.length > 0) {
    const [star, chunk, rest] = scanChunk(pattern);
    pattern = rest;
    if (star && chunk.length === 0) return !name.includes(SLASH);
    const t = matchChunk(chunk, name);
    if (t !== false && t !== 'bad' && (t.length === 0 || pattern.length > 0)) {
      name = t;
      continue;
    }
    if (t === 'bad') return 'bad';
    if (star) {
      for (let i = 0; i < name.length && name[i] !== SLASH; i++) {
        const t2 = matchChunk(chunk, name.subarray(i + 1));
        if (t2 === 'bad') return 'bad';
        if (t2 !== false) {
          if (pattern.length === 0 && t2.length > 0) continue;
          name = t2;
          continue outer;
        }
      }
    }
    return false;
  }
  return name.length === 0;
}

/**
 * Go's `filepath.Match(pattern, name)`: true, false, or 'bad' where Go returns ErrBadPattern
 * (which it reports only when the match gets that far, as Go does).
 */
export function goPathMatch(pattern: string | Uint8Array, name: string | Uint8Array): boolean | 'bad' {
  const p = typeof pattern === 'string' ? Buffer.from(pattern, 'utf8') : pattern;
  const n = typeof name === 'string' ? Buffer.from(name, 'utf8') : name;
  return goMatch(p, n);
}

/** Does the pattern use `filepath.Match` wildcards (`*`, `?`, `[`)? */
export function hasGoWildcard(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}
