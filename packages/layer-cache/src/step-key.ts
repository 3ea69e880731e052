import { createHash } from 'node:crypto';

/**
 * Canonical JSON of `value` handed out in pieces: object keys sorted (undefined members left
 * out), arrays — and other iterables, written as arrays — in order. Nothing is built whole, so a
 * key over a 200k-file context never holds its text at once.
 */
function writeCanonical(value: unknown, emit: (s: string) => void): void {
  if (value === null || typeof value !== 'object') {
    emit(JSON.stringify(value ?? null));
    return;
  }
  if (Array.isArray(value) && value.every(isPlain)) {
    // a flat array (a [path, digest] pair): the same text in one native call
    emit(JSON.stringify(value));
    return;
  }
  if (Array.isArray(value) || Symbol.iterator in value) {
    emit('[');
    let first = true;
    for (const v of value as Iterable<unknown>) {
      if (!first) emit(',');
      first = false;
      writeCanonical(v, emit);
    }
    emit(']');
    return;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  emit('{');
  for (let i = 0; i < keys.length; i++) {
    emit(`${i > 0 ? ',' : ''}${JSON.stringify(keys[i])}:`);
    writeCanonical(obj[keys[i]], emit);
  }
  emit('}');
}

function isPlain(v: unknown): boolean {
  const t = typeof v;
  return t === 'string' || t === 'number' || t === 'boolean' || v === null || v === undefined;
}

/** JSON with object keys sorted, so equal values always give equal bytes. */
export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  writeCanonical(value, (s) => parts.push(s));
  return parts.join('');
}

/**
 * The cache key of one build step: sha256 (hex) over the parent's chainID and a canonical
 * description of the step (instruction as expanded, the ARG/ENV it sees, source content
 * digests; a long list may be given as an iterable). Never a time: touching a file must not
 * change a key.
 */
export function stepKey(parentChainId: string, step: unknown): string {
  const h = createHash('sha256');
  let pending = `strata-step-v1\0${parentChainId}\0`;
  writeCanonical(step, (s) => {
    pending += s;
    if (pending.length >= 1 << 16) {
      h.update(pending);
      pending = '';
    }
  });
  return h.update(pending).digest('hex');
}
