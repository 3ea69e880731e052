import { listAttributesSync, getAttributeSync, removeAttributeSync, setAttributeSync } from '@napi-rs/xattr';

// Extended attributes through @napi-rs/xattr, whose calls are the l*xattr ones: a symlink's own
// attributes, never its target's. The one place strata reads and writes them.

/** The extended attributes of a path (not following a symlink); undefined when it has none or they cannot be read. */
export function readXattrs(path: string): Record<string, Buffer> | undefined {
  let names: string[];
  try {
    names = listAttributesSync(path);
  } catch {
    return undefined;
  }
  if (names.length === 0) return undefined;
  const out: Record<string, Buffer> = {};
  for (const n of names) {
    try {
      const v = getAttributeSync(path, n);
      if (v) out[n] = v;
    } catch {
      // removed meanwhile, or not readable (a security.* name without privileges)
    }
  }
  return Object.keys(out).length ? out : undefined;
}

/** Set one extended attribute of a path (not following a symlink); throws the system error. */
export function setXattr(path: string, name: string, value: Uint8Array): void {
  setAttributeSync(path, name, value);
}

/** Remove one extended attribute of a path (not following a symlink); throws the system error. */
export function removeXattr(path: string, name: string): void {
  removeAttributeSync(path, name);
}
