import { createRequire } from 'node:module';

type XattrBinding = typeof import('@napi-rs/xattr');
let binding: XattrBinding | undefined;
/**
 * The native binding, loaded on first use: most commands never touch an xattr, and a copy of the
 * CLI bundle run from elsewhere (another user's test) need not find it to start. The bundle is
 * CommonJS (its `require`); under vitest the sources are ES modules.
 */
function xattr(): XattrBinding {
  return (binding ??= (typeof require === 'function' ? require : createRequire(import.meta.url))('@napi-rs/xattr') as XattrBinding);
}

// Extended attributes through @napi-rs/xattr, whose calls are the l*xattr ones: a symlink's own
// attributes, never its target's. The one place strata reads and writes them.

/** The extended attributes of a path (not following a symlink); undefined when it has none or they cannot be read. */
export function readXattrs(path: string): Record<string, Buffer> | undefined {
  let names: string[];
  try {
    names = xattr().listAttributesSync(path);
  } catch {
    return undefined;
  }
  if (names.length === 0) return undefined;
  const out: Record<string, Buffer> = {};
  for (const n of names) {
    try {
      const v = xattr().getAttributeSync(path, n);
      if (v) out[n] = v;
    } catch {
      // removed meanwhile, or not readable (a security.* name without privileges)
    }
  }
  return Object.keys(out).length ? out : undefined;
}

/** Set one extended attribute of a path (not following a symlink); throws the system error. */
export function setXattr(path: string, name: string, value: Uint8Array): void {
  xattr().setAttributeSync(path, name, value);
}

/** Remove one extended attribute of a path (not following a symlink); throws the system error. */
export function removeXattr(path: string, name: string): void {
  xattr().removeAttributeSync(path, name);
}
