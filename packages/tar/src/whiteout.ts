import { baseOf, joinRel, parentOf } from './clean-path';

/** A file `.wh.<name>` in a layer deletes `<name>` from the layers below. */
export const WHITEOUT_PREFIX = '.wh.';
/** Names starting with this are whiteout metadata (aufs), never user files. */
export const WHITEOUT_META_PREFIX = '.wh..wh.';
/** A file `.wh..wh..opq` in a directory hides all lower children of that directory. */
export const WHITEOUT_OPAQUE = '.wh..wh..opq';

export type Whiteout =
  | { kind: 'whiteout'; /** clean relative path of what is deleted */ target: string }
  | { kind: 'opaque'; /** clean relative path of the opaque directory */ dir: string }
  | { kind: 'meta' };

/** Decode a clean relative path: is it a whiteout marker, and of what? */
export function parseWhiteout(rel: string): Whiteout | undefined {
  const base = baseOf(rel);
  if (!base.startsWith(WHITEOUT_PREFIX)) return undefined;
  if (base === WHITEOUT_OPAQUE) return { kind: 'opaque', dir: parentOf(rel) };
  if (base.startsWith(WHITEOUT_META_PREFIX)) return { kind: 'meta' };
  return { kind: 'whiteout', target: joinRel(parentOf(rel), base.slice(WHITEOUT_PREFIX.length)) };
}

/** The marker path that deletes `rel`. */
export function whiteoutPath(rel: string): string {
  return joinRel(parentOf(rel), WHITEOUT_PREFIX + baseOf(rel));
}

/** The marker path that makes directory `dir` opaque. */
export function opaquePath(dir: string): string {
  return joinRel(dir, WHITEOUT_OPAQUE);
}

/** Whether a plain file name would be read as a whiteout (so it cannot be stored in a layer). */
export function isWhiteoutName(name: string): boolean {
  return name.startsWith(WHITEOUT_PREFIX);
}
