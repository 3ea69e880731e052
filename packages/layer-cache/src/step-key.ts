import { createHash } from 'node:crypto';

/** JSON with object keys sorted, so equal values always give equal bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/**
 * The cache key of one build step: sha256 (hex) over the parent's chainID and a canonical
 * description of the step (instruction as expanded, the ARG/ENV it sees, source content
 * digests). Never a time: touching a file must not change a key.
 */
export function stepKey(parentChainId: string, step: unknown): string {
  return createHash('sha256').update(`strata-step-v1\0${parentChainId}\0${canonicalJson(step)}`).digest('hex');
}
