import { stepKey, type LayerCache } from '@strata/layer-cache';
import type { SourceMatch } from './copy-plan';
import type { SourceNode, SourceTree } from './source-tree';

export interface CopyKeyInput {
  /** The build context (its stat fingerprint and content digests). */
  context: SourceTree;
  /** Where stat-fingerprint aliases live; none: the key is always made from content digests. */
  cache?: Pick<LayerCache, 'getAlias' | 'putAlias'>;
  /** --no-cache: no alias is read (a fresh key is still remembered). */
  noCache?: boolean;
  /** The parent chain ('' for --link). */
  parent: string;
  /** The step's own words (op, dest, chown, chmod, flags). */
  spec: object;
  matches: SourceMatch[];
  /** `context`, or the stage / image the sources come from (`stage:<chainID>`, `image:<id>`). */
  sourceId: string;
}

/** A COPY/ADD key, in two steps: what is known without reading sources, then the key itself. */
export interface CopyKeyPlan {
  /** The key a trusted stat-fingerprint alias gives: nothing needs to be read. */
  aliased?: string;
  /** Without an alias: the context files the stat cache cannot vouch for, which the key needs read. */
  unhashed: { files: number; bytes: number };
  /**
   * The key from content digests (reading what the stat cache cannot answer, unless a layer
   * written meanwhile took their hashes: `SourceTree.takeHashes`); remembered under the alias.
   */
  compute(): Promise<string>;
}

/**
 * The cache key of a COPY/ADD. From the context, the key is made of the sources' content
 * digests (the stat cache spares reading files whose stat data did not change), and a stat
 * fingerprint of the sources is remembered as an alias of it, so an unchanged rebuild hashes
 * nothing; the alias is trusted only when no source changed within the racy window before it was
 * written (LayerCache.getAlias). From a stage or an image, the sources are named by that chain.
 * A wrong "unchanged" answer here ships a stale image: packages/builder/test/rebuild-cache.test.ts
 * checks this against a plain walk and hash over random edit sequences.
 */
export async function copyStepKey(o: CopyKeyInput): Promise<string> {
  const plan = await planCopyKey(o);
  return plan.aliased ?? (await plan.compute());
}

/** `copyStepKey` in its two steps (the builder decides between them whether a layer's writing reads the files). */
export async function planCopyKey(o: CopyKeyInput): Promise<CopyKeyPlan> {
  const keyOf = (): string => {
    let content: unknown;
    if (o.sourceId === 'context') {
      const digests = o.context.digests(treeNodes(o.matches));
      content = o.matches.map((m) =>
        isInline(m) ? { name: m.node.path, data: inlineKey(m) } : { root: m.node.path, files: pairs(m.nodes, digests), links: hardLinks(m.nodes) },
      );
    } else content = { from: o.sourceId, roots: o.matches.map((m) => m.node.path) };
    return stepKey(o.parent, { ...o.spec, content });
  };
  const fp = o.cache && o.sourceId === 'context' && o.context.fingerprint && !o.noCache ? fingerprintOf(o) : undefined;
  const aliased = fp ? await o.cache!.getAlias(fp.digest, fp.newestMtimeMs) : undefined;
  const compute = async () => {
    const key = keyOf();
    if (fp) await o.cache!.putAlias(fp.digest, key);
    return key;
  };
  if (aliased) return { aliased, unhashed: { files: 0, bytes: 0 }, compute };
  const unhashed = o.sourceId === 'context' && o.context.unhashed ? o.context.unhashed(treeNodes(o.matches)) : { files: 0, bytes: 0 };
  return { unhashed, compute };
}

/** stat data of the sources plus the step: equal fingerprints let a hit skip hashing (see LayerCache.getAlias). */
function fingerprintOf(o: CopyKeyInput): { digest: string; newestMtimeMs: number } {
  const f = o.context.fingerprint!(treeNodes(o.matches));
  const inline = o.matches.filter(isInline).map((m) => [m.node.path, inlineKey(m)]);
  return { digest: stepKey(o.parent, { spec: o.spec, roots: o.matches.map((m) => m.node.path), files: f.digest, inline }), newestMtimeMs: f.newestMtimeMs };
}

/** The nodes of every match from a source tree (a loop, not push(...): a context can have 100k files). */
function treeNodes(matches: SourceMatch[]): SourceNode[] {
  const tree = matches.filter((m) => !isInline(m));
  if (tree.length === 1) return tree[0].nodes;
  const out: SourceNode[] = [];
  for (const m of tree) for (const n of m.nodes) out.push(n);
  return out;
}

/** [path, digest] of each node, made as the key is hashed (a context can have 200k files). */
function* pairs(nodes: SourceNode[], digests: Map<string, string>): Generator<[string, string]> {
  for (const n of nodes) yield [n.path, digests.get(n.path) ?? n.type];
}

/** The hard links among one source's nodes, as [path, first path of the same file]: part of the key, as they are of the layer. */
function hardLinks(nodes: SourceNode[]): Array<[string, string]> {
  const first = new Map<string, string>();
  const out: Array<[string, string]> = [];
  for (const n of nodes) {
    const k = n.linkKey;
    if (k === undefined) continue;
    const f = first.get(k);
    if (f === undefined) first.set(k, n.path);
    else out.push([n.path, f]);
  }
  return out;
}

/** Heredocs and downloads: sources that are not in a source tree. */
function isInline(m: SourceMatch): boolean {
  return m.data !== undefined || m.downloaded !== undefined;
}

/** Inline sources in cache keys: heredoc text as it is, downloads by digest. */
function inlineKey(m: SourceMatch): string {
  return m.downloaded ?? m.data!;
}
