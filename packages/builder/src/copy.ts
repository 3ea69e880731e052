import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join, posix } from 'node:path';
import { StrataError } from '@strata/errors';
import { createLexer, type Instruction } from '@strata/dockerfile';
import { compileExcludes } from '@strata/context';
import { nowSeconds, scope, type BuildCtx, type StageState } from './build-state';
import { stepKey, type CacheRecord } from '@strata/layer-cache';
import { tarBuffers, writeTar, type WriteTarStats } from '@strata/tar';
import { addLayer, passwdFiles, viewOf, writtenLayer } from './stage-layers';
import { stageSource } from './stages';
import { resolveChown, validChmod } from './chown';
import { emitEntries, matchSources, type CopyEntry, type SourceMatch } from './copy-plan';
import { lowerFs } from './lower-fs';
import type { SourceNode, SourceTree } from './source-tree';
import { unpackArchive } from './unpack';
import { download } from './download';
import type { TransportOptions } from '@strata/registry';
import { planCopyKey, type CopyKeyPlan } from './copy-key';

/** Expands COPY/ADD heredoc bodies: `\\` escapes whatever the escape directive, quotes stay (BuildKit ExpandRaw). */
const HEREDOC_LEXER = createLexer({ escape: '\\', skipProcessQuotes: true });

export async function copy(ctx: BuildCtx, st: StageState, ins: Extract<Instruction, { kind: 'copy' | 'add' }>): Promise<{ cached: boolean; files?: WriteTarStats }> {
  const env = scope(st);
  const word = (w: string) => ctx.lexer.processWord(w, env);
  const what = ins.kind.toUpperCase();
  const sources = ins.sources.map(word);
  const destWord = word(ins.dest);
  const from = ins.kind === 'copy' && ins.from !== undefined ? word(ins.from) : undefined;
  const chmod = ins.chmod !== undefined ? word(ins.chmod) : undefined;
  if (chmod !== undefined && !validChmod(chmod)) throw new StrataError('DOCKERFILE_SYNTAX', `invalid chmod parameter: ${JSON.stringify(chmod)}`);
  const chown = ins.chown !== undefined ? word(ins.chown) : undefined;
  const excludes = ins.exclude.map(word);
  const parents = ins.kind === 'copy' ? ins.parents : false;
  const cwd = st.config.WorkingDir || '/';
  let dest = destWord.startsWith('/') ? destWord : posix.join(cwd, destWord) + (destWord.endsWith('/') || destWord === '.' || destWord === '' ? '/' : '');
  if (dest === '') dest = '/';
  const multi = sources.length + ins.heredocs.length > 1;
  if (multi && !dest.endsWith('/')) throw new StrataError('DOCKERFILE_SYNTAX', `When using ${what} with more than one source file, the destination must be a directory and end with a /`);
  const urls = ins.kind === 'add' ? sources.filter((s) => /^https?:\/\//.test(s)) : [];
  const local = sources.filter((s) => !urls.includes(s));
  if (ins.kind === 'add' && local.some((s) => /^git@|\.git($|#)/.test(s))) throw new StrataError('UNSUPPORTED', 'ADD of git repositories is not supported yet');

  const srcTree = from !== undefined ? await stageSource(ctx, from) : { tree: ctx.context, id: 'context' };
  const exclude = excludes.length ? compileExcludes(excludes) : undefined;
  const matches: SourceMatch[] = local.length ? matchSources(srcTree.tree, local, exclude, `${what} ${local.join(' ')}`, parents) : [];
  for (const h of ins.heredocs) {
    const data = h.expand ? HEREDOC_LEXER.processWord(h.data, env) : h.data;
    const node: SourceNode = { path: h.path, type: 'file', mode: 0o644, uid: 0, gid: 0, size: Buffer.byteLength(data), mtime: nowSeconds() };
    matches.push({ node, nodes: [node], data });
  }
  const downloads: string[] = [];
  // ADD <url> goes through the registry client's transport (timeouts, proxies, extra CAs)
  const net = ctx.opts.registry ?? { env: ctx.opts.env };
  try {
    for (const u of urls) {
      const file = join(ctx.store.root, 'tmp', `download-${process.pid}-${randomBytes(6).toString('hex')}`);
      downloads.push(file);
      const checksum = ins.kind === 'add' ? ins.checksum : undefined;
      matches.push(checksum !== undefined && SHA256_DIGEST.test(checksum) ? deferredUrl(u, checksum, file, net) : await fetchUrl(u, checksum, file, net));
    }
    return await copyMatches(ctx, st, ins, matches, srcTree, { what, sources, destWord, dest, chown, chmod, parents, excludes, from });
  } finally {
    for (const f of downloads) rmSync(f, { force: true });
  }
}

interface CopyWords {
  what: string;
  sources: string[];
  destWord: string;
  dest: string;
  chown: string | undefined;
  chmod: string | undefined;
  parents: boolean;
  excludes: string[];
  from: string | undefined;
}

/** The rest of a COPY/ADD once its sources are known: the cache key, then the layer. */
async function copyMatches(
  ctx: BuildCtx,
  st: StageState,
  ins: Extract<Instruction, { kind: 'copy' | 'add' }>,
  matches: SourceMatch[],
  srcTree: { tree: SourceTree; id: string },
  w: CopyWords,
): Promise<{ cached: boolean; files?: WriteTarStats }> {
  const { what, sources, destWord, dest, chown, chmod, parents, excludes, from } = w;

  const createdBy = `${what} ${[...sources, ...ins.heredocs.map((h) => `<<${h.path}`)].join(' ')} ${destWord} # buildkit`.replace(/ {2,}/g, ' ');
  // BuildKit links only without --chmod (dockerfile2llb: `cfg.link && cfg.chmod == ""`).
  const link = ins.link && chmod === undefined;
  const spec = {
    op: ins.kind,
    dest,
    chown,
    chownIn: chown && !/^\d+(:\d+)?$/.test(chown) ? st.chainId : undefined,
    chmod,
    link,
    parents,
    excludes,
    unpack: ins.kind === 'add' ? ins.unpack : undefined,
    epoch: ctx.epoch,
  };
  const parent = link ? '' : st.chainId;
  const plan = await planCopyKey({ context: ctx.context, cache: ctx.cache, noCache: ctx.opts.noCache, parent, spec, matches, sourceId: srcTree.id });
  // The same step of earlier builds (whatever its sources held then): its layer is the splice base.
  const lineage = srcTree.id === 'context' ? stepKey(parent, { lineage: spec, roots: matches.map((m) => m.node.path) }) : undefined;
  // ADD unpacks archives' files here until the layer is written.
  const scratch = join(ctx.store.root, 'tmp', `add-${process.pid}-${randomBytes(6).toString('hex')}`);
  let archives = 0;
  const { rec, cached, files } = await copyLayer(ctx, plan, lineage, createdBy, async () => {
    for (const m of matches) await m.fetch?.();
    const view = await viewOf(ctx, st);
    const owner = chown !== undefined ? await resolveChown(chown, () => passwdFiles(view)) : undefined;
    // --link: the layer does not depend on what is below, so it is planned on an empty filesystem.
    const lower = link ? lowerFs(undefined) : lowerFs(view);
    return emitEntries(matches, srcTree.tree, {
      dest,
      owner,
      chmod,
      parents,
      now: nowSeconds(),
      lower,
      unpack: ins.kind === 'add' && ins.unpack !== false && from === undefined ? (n, dir) => unpackArchive(n, dir, undefined, join(scratch, String(archives++))) : undefined,
    });
  }).finally(() => rmSync(scratch, { recursive: true, force: true }));
  addLayer(ctx, st, rec, createdBy);
  return { cached, files };
}

/** Above this many context files (or bytes) to read for its key, a COPY's key is made while its layer is written. */
const READ_ONCE_FILES = 256;
const READ_ONCE_BYTES = 16 * 1024 * 1024;

/**
 * A COPY/ADD layer through the build cache, each source file read at most once. The key is
 * looked up first when it is known without reading much (a trusted alias, or a few files the
 * stat cache cannot vouch for); otherwise the layer is written first, the writer hashing every
 * file it reads, and the key is made from those hashes: a hit then throws the written layer
 * away, a miss keeps it. Files whose content the stat cache vouches for are copied from the layer
 * of an earlier build of the same step (`lineage`) where that layer holds them with the very same
 * header and content: the output is byte for byte what reading them would give.
 */
async function copyLayer(
  ctx: BuildCtx,
  plan: CopyKeyPlan,
  lineage: string | undefined,
  description: string,
  entriesOf: () => Promise<CopyEntry[]>,
): Promise<{ rec: CacheRecord; cached: boolean; files?: WriteTarStats }> {
  const lookup = async (key: string) => {
    if (ctx.opts.noCache) return undefined;
    const hit = await ctx.cache.get(key);
    return hit?.layer ? hit : undefined;
  };
  let key = plan.aliased;
  let hit = key !== undefined ? await lookup(key) : undefined;
  if (hit) return { rec: hit, cached: true };
  const tree = ctx.context;
  const readOnce = key === undefined && tree.takeHashes !== undefined && (plan.unhashed.files > READ_ONCE_FILES || plan.unhashed.bytes > READ_ONCE_BYTES);
  if (key === undefined && !readOnce) {
    key = await plan.compute();
    hit = await lookup(key);
    if (hit) return { rec: hit, cached: true };
  }
  const base = lineage !== undefined && tree.contentHash !== undefined ? await spliceBase(ctx, lineage) : undefined;
  let entries: Array<CopyEntry | undefined>;
  try {
    entries = await entriesOf();
  } catch (err) {
    tree.release?.(); // an ADD archive may have been read through the tree
    throw err;
  }
  const taken = readOnce ? tree.takeHashes!() : undefined;
  const stats: WriteTarStats = { spliced: 0, read: 0 };
  const buffers = tarBuffers();
  const tar = writeTar(letGo(entries, tree), {
    buffers,
    ...(ctx.epoch !== undefined ? { clampMtime: ctx.epoch } : {}),
    base,
    contentHash: (e) => ((e as CopyEntry).source !== undefined ? tree.contentHash!((e as CopyEntry).source!) : undefined),
    stats,
    onContentHash: taken !== undefined ? (e, hex) => (e as CopyEntry).source !== undefined && taken((e as CopyEntry).source!, hex) : undefined,
  });
  let put;
  try {
    put = await ctx.store.blobs.put(tar, {
      release: (c) => buffers.give(c),
      keep: async () => {
        if (key === undefined) {
          key = await plan.compute();
          hit = await lookup(key);
        }
        return hit === undefined;
      },
    });
  } finally {
    tree.release?.();
  }
  if (hit) return { rec: hit, cached: true };
  const rec: CacheRecord = { key: key!, created: new Date().toISOString(), layer: writtenLayer(put, stats), description };
  await ctx.cache.put(rec);
  if (lineage !== undefined) await ctx.cache.putAlias(lineage, key!);
  return { rec, cached: false, files: { spliced: stats.spliced, read: stats.read } };
}

/**
 * The entries in order, each let go of once taken (a context can have 200k; the key is made
 * after). A context entry other than a file is checked against the tree first: the walk listed it
 * by path, and what goes into the layer must be what is inside the context now (a file is
 * checked when the writer opens it).
 */
function* letGo(entries: Array<CopyEntry | undefined>, tree: SourceTree): Generator<CopyEntry> {
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    entries[i] = undefined;
    if (e.source !== undefined && e.type !== 'file') tree.check?.(e.source);
    yield e;
  }
}

/**
 * The layer the last build of this step wrote (a stat-fingerprint alias from the step's lineage to
 * its key), held against GC while it is read. A hint only: the writer checks every entry it copies.
 */
async function spliceBase(ctx: BuildCtx, lineage: string): Promise<string | undefined> {
  // No racy window applies (0): nothing is trusted from it.
  const key = await ctx.cache.getAlias(lineage, 0);
  const rec = key !== undefined ? await ctx.cache.get(key) : undefined;
  if (!rec?.layer) return undefined;
  ctx.store.blobs.hold([rec.layer.digest]);
  return (await ctx.store.blobs.has(rec.layer.digest)) ? ctx.store.blobs.path(rec.layer.digest) : undefined;
}

const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

/** `ADD --checksum` of a URL: a match keyed by the checksum, downloaded only if the layer is made. */
function deferredUrl(url: string, checksum: string, file: string, net: TransportOptions): SourceMatch {
  const node: SourceNode = { path: urlFileName(url), type: 'file', mode: 0o600, uid: 0, gid: 0, size: 0, mtime: 0, sourcePath: file };
  return {
    node,
    nodes: [node],
    downloaded: checksum,
    fetch: async () => {
      const got = (await fetchUrl(url, checksum, file, net)).node;
      node.size = got.size;
      node.mtime = got.mtime;
    },
  };
}

// BuildKit names the file after the URL as written (not after redirects); no name: __unnamed__.
function urlFileName(url: string): string {
  const base = posix.basename(new URL(url).pathname);
  return base === '' || base === '.' || base === '/' ? '__unnamed__' : base;
}

async function fetchUrl(url: string, checksum: string | undefined, file: string, net: TransportOptions): Promise<SourceMatch> {
  const res = await download(url, `ADD ${url}`, file, net);
  if (checksum !== undefined && res.digest !== checksum) {
    throw new StrataError('DIGEST_MISMATCH', `ADD ${url}: digest mismatch ${res.digest}: ${checksum}`);
  }
  const lm = res.lastModified;
  const mtime = lm ? Math.floor(Date.parse(lm) / 1000) : 0;
  const node: SourceNode = { path: urlFileName(url), type: 'file', mode: 0o600, uid: 0, gid: 0, size: res.size, mtime, sourcePath: file };
  return { node, nodes: [node], downloaded: res.digest };
}

