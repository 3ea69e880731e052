import type { Digest } from '@strata/oci';
import { contentDigests, type ContextDigests, type DigestOptions } from './content-digests';
import { listContext, type ContextEntry, type WalkOptions } from './walk-context';

export interface DigestContextResult extends ContextDigests {
  entries: ContextEntry[];
  /** `treeDigest('')`: the whole included context. */
  digest: Digest;
}

/** Walk (with `.dockerignore`) and digest a context in one call. */
export function digestContext(contextDir: string, options: WalkOptions & DigestOptions = {}): DigestContextResult {
  const entries = listContext(contextDir, options);
  const d = contentDigests(contextDir, entries, { ...options, prune: options.prune ?? options.under === undefined });
  return { ...d, treeDigest: d.treeDigest, entries, digest: d.treeDigest('') };
}
