import { spawnSync } from 'node:child_process';
import { StrataError } from '@strata/errors';
import { python3Argv } from '@strata/tar';

// Node has no xattr API. One python3 process walks a whole tree and prints the extended
// attributes of every entry that has any (as @strata/tar does for writing them).
const WALK = `
import os, sys, json
root = sys.argv[1]
out = {}
def visit(rel):
    p = os.path.join(root, rel) if rel else root
    try:
        names = os.listxattr(p, follow_symlinks=False)
    except OSError:
        names = []
    if names:
        d = {}
        for n in names:
            try:
                d[n] = os.getxattr(p, n, follow_symlinks=False).hex()
            except OSError:
                pass
        out[rel or '.'] = d
for dirpath, dirnames, filenames in os.walk(root):
    rel = os.path.relpath(dirpath, root)
    rel = '' if rel == '.' else rel
    if not rel:
        visit('')
    for n in dirnames + filenames:
        visit(os.path.join(rel, n) if rel else n)
json.dump(out, sys.stdout)
`;

/** Extended attributes of every entry under `dir` that has some, keyed by path relative to `dir` (`.` for itself). */
export function readTreeXattrs(dir: string): Map<string, Record<string, Buffer>> {
  const [cmd, argv] = python3Argv(WALK, dir);
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const out = new Map<string, Record<string, Buffer>>();
  if (r.error || r.status !== 0) {
    // Without xattrs an opaque directory would be captured as a plain one and lower files would
    // come back: refuse rather than write a wrong layer.
    throw new StrataError('UNSUPPORTED', `cannot read extended attributes under ${dir}: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}`, {
      hint: 'strata reads xattrs through python3 (Node has none); install python3',
    });
  }
  const parsed = JSON.parse(r.stdout) as Record<string, Record<string, string>>;
  for (const [p, attrs] of Object.entries(parsed)) {
    const rec: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(attrs)) rec[k] = Buffer.from(v, 'hex');
    out.set(p, rec);
  }
  return out;
}

/** Directories marked opaque (`trusted.overlay.opaque=y`) under `dir`. */
export function opaqueDirs(xattrs: Map<string, Record<string, Buffer>>): Set<string> {
  const out = new Set<string>();
  for (const [p, a] of xattrs) if (a['trusted.overlay.opaque']?.toString() === 'y') out.add(p);
  return out;
}
