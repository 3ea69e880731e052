import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { posix } from 'node:path';
import { StrataError, isStrataError } from '@strata/errors';
import { chainIds, MediaType, type Digest, type HistoryEntry, type ImageConfig, type RuntimeConfig } from '@strata/oci';
import {
  createLexer,
  parseDockerfile,
  dockerfileErrorLine,
  type ArgInstruction,
  type Instruction,
  type Lexer,
  type Stage,
} from '@strata/dockerfile';
import { compileExcludes, loadIgnore } from '@strata/context';
import { layerFromBlob, type Layer } from '@strata/layer';
import { imageFromParts } from '@strata/image';
import { unionView, type UnionView } from '@strata/unionfs';
import { writeTar, type TarWriteEntry } from '@strata/tar';
import { openLayerCache, stepKey, type CacheRecord, type LayerCache } from '@strata/layer-cache';
import type { Store } from '@strata/image-store';
import { resolveChown, validChmod, type Owner } from './chown';
import { emitEntries, matchSources, type SourceMatch } from './copy-plan';
import { goList, goQuoteList, goSetMap } from './go-format';
import { fillHistoryTimes } from './history';
import { lowerFs } from './lower-fs';
import { DEFAULT_PATH, envToMap, exposedPorts, healthConfig, setEnv } from './runtime-config';
import { contextTree, viewTree, type SourceNode, type SourceTree } from './source-tree';
import { unpackArchive } from './unpack';
import { download } from './download';
import { PROXY_ARGS, runStep } from './run-step';
import type { BuildOptions, BuildResult, ProgressEvent, StepReport } from './types';

const COMMENT = 'buildkit.dockerfile.v0';
/** Expands COPY/ADD heredoc bodies: `\` escapes whatever the escape directive, quotes stay (BuildKit ExpandRaw). */
const HEREDOC_LEXER = createLexer({ escape: '\\', skipProcessQuotes: true });

/** The state of one stage while it is built: its layers, config and what is in scope. */
export interface StageState {
  index: number;
  name?: string;
  layers: Layer[];
  diffIds: Digest[];
  /** chainID of `layers` ('' when none): the parent part of every cache key. */
  chainId: string;
  image: { architecture: string; os: string; [key: string]: unknown };
  config: RuntimeConfig;
  history: HistoryEntry[];
  /** ARGs declared in this stage (undefined value: declared without a value). */
  args: Map<string, string | undefined>;
  shell: string[];
  cmdSet: boolean;
  view?: UnionView;
  /** Key of the last metadata step since the last layer (metadata steps are cached by their chain). */
  metaChain?: string;
}

interface BuildCtx {
  opts: BuildOptions;
  store: Store;
  cache: LayerCache;
  filename: string;
  lexer: Lexer;
  stages: Stage[];
  built: Map<number, StageState>;
  globalArgs: Map<string, string | undefined>;
  buildArgs: Record<string, string>;
  usedBuildArgs: Set<string>;
  context: SourceTree;
  epoch?: number;
  stepId: number;
  steps: StepReport[];
  progress: (e: ProgressEvent) => void;
  platform: { os: string; architecture: string; variant?: string };
}

function lineError(ctx: BuildCtx, line: number, err: unknown): StrataError {
  if (dockerfileErrorLine(err) !== undefined && err instanceof StrataError) return err;
  if (err instanceof StrataError) {
    if (err.message.startsWith(`${ctx.filename}:`)) return err;
    return new StrataError(err.code, `${ctx.filename}:${line}: ${err.message}`, { hint: err.hint, cause: err.cause ?? err });
  }
  const e = err as Error;
  return new StrataError('BUILD_FAILED', `${ctx.filename}:${line}: ${e?.message ?? String(err)}`, { cause: err });
}

function predefinedArgs(platform: BuildCtx['platform']): Record<string, string> {
  const p = `${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''}`;
  return {
    TARGETPLATFORM: p,
    TARGETOS: platform.os,
    TARGETARCH: platform.architecture,
    TARGETVARIANT: platform.variant ?? '',
    BUILDPLATFORM: 'linux/amd64',
    BUILDOS: 'linux',
    BUILDARCH: 'amd64',
    BUILDVARIANT: '',
  };
}

function parsePlatform(p: string | undefined): BuildCtx['platform'] {
  if (!p) return { os: 'linux', architecture: 'amd64' };
  const [os, architecture, variant] = p.split('/');
  if (!os || !architecture) throw new StrataError('USAGE', `invalid platform "${p}": want os/arch[/variant]`);
  return { os, architecture, variant };
}

/** Expansion scope: ARGs with values, then ENV (ENV wins over an ARG of the same name). */
function scope(st: StageState): Map<string, string> {
  const m = new Map<string, string>();
  for (const [k, v] of st.args) if (v !== undefined) m.set(k, v);
  for (const [k, v] of envToMap(st.config.Env)) m.set(k, v);
  return m;
}

/** Build args in scope for RUN (`|N K=V` in history, part of the env and cache key). */
export function argsInScope(st: StageState): Array<[string, string]> {
  const env = envToMap(st.config.Env);
  const out: Array<[string, string]> = [];
  for (const [k, v] of st.args) if (v !== undefined && !env.has(k)) out.push([k, v]);
  return out;
}

async function viewOf(ctx: BuildCtx, st: StageState): Promise<UnionView> {
  if (st.view) return st.view;
  const sources = [];
  for (const l of st.layers) {
    const digest = await l.digest();
    const mt = await l.mediaType();
    const uncompressed = mt === MediaType.OCI_LAYER || mt === MediaType.DOCKER_LAYER;
    sources.push(uncompressed && (await ctx.store.blobs.has(digest)) ? { path: ctx.store.blobs.path(digest), diffId: await l.diffId() } : { open: () => l.uncompressed(), diffId: await l.diffId() });
  }
  st.view = await unionView(sources);
  return st.view;
}

async function readText(view: UnionView, path: string): Promise<string | undefined> {
  const e = view.stat(path);
  if (!e || (e.type !== 'file' && e.type !== 'hardlink')) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of await view.read(path)) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

function layerOf(ctx: BuildCtx, digest: Digest, size: number): Layer {
  const open = () => ctx.store.blobs.open(digest);
  return layerFromBlob({ mediaType: MediaType.OCI_LAYER, digest, size, diffId: digest, open, openUncompressed: open });
}

function addLayer(ctx: BuildCtx, st: StageState, rec: CacheRecord, createdBy: string): void {
  const l = rec.layer!;
  st.layers.push(layerOf(ctx, l.digest, l.size));
  st.diffIds.push(l.digest);
  st.chainId = chainIds(st.diffIds).at(-1)!;
  st.view = undefined;
  st.metaChain = undefined;
  st.history.push({ created: rec.created, created_by: createdBy, comment: COMMENT });
}

function addMeta(st: StageState, createdBy: string): void {
  st.history.push({ created: undefined, created_by: createdBy, comment: COMMENT, empty_layer: true });
}

/** A metadata step is "cached" when the same step followed the same parent before (a tiny record). */
async function metaCached(ctx: BuildCtx, st: StageState, createdBy: string): Promise<boolean> {
  const key = stepKey(`${st.chainId}|${st.metaChain ?? ''}`, { op: 'meta', createdBy, stage: st.index });
  st.metaChain = key;
  if (!ctx.opts.noCache && (await ctx.cache.get(key))) return true;
  await ctx.cache.put({ key, created: new Date().toISOString(), description: createdBy });
  return false;
}

/**
 * A layer step through the cache: the key is looked up first (a hit never reads sources again);
 * on a miss `produce` writes the layer's tar into the blob store and the record is kept.
 */
async function cachedLayer(ctx: BuildCtx, key: string, description: string, produce: () => Promise<AsyncIterable<Uint8Array>>): Promise<{ rec: CacheRecord; cached: boolean }> {
  if (!ctx.opts.noCache) {
    const hit = await ctx.cache.get(key);
    if (hit?.layer) return { rec: hit, cached: true };
  }
  const { digest, size } = await ctx.store.blobs.put(await produce());
  const rec: CacheRecord = { key, created: new Date().toISOString(), layer: { digest, size, mediaType: MediaType.OCI_LAYER }, description };
  await ctx.cache.put(rec);
  return { rec, cached: false };
}

function tarOf(ctx: BuildCtx, entries: Iterable<TarWriteEntry>): AsyncIterable<Uint8Array> {
  return writeTar(entries, ctx.epoch !== undefined ? { clampMtime: ctx.epoch } : {});
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

async function newStage(ctx: BuildCtx, stage: Stage): Promise<StageState> {
  const from = stage.from;
  let ref: string;
  try {
    const env = new Map<string, string>();
    for (const [k, v] of ctx.globalArgs) if (v !== undefined) env.set(k, v);
    ref = ctx.lexer.processWord(from.image, env);
  } catch (err) {
    throw lineError(ctx, from.range.start, err);
  }
  const base: StageState = {
    index: stage.index,
    name: stage.name,
    layers: [],
    diffIds: [],
    chainId: '',
    image: { architecture: ctx.platform.architecture, os: ctx.platform.os, ...(ctx.platform.variant ? { variant: ctx.platform.variant } : {}) },
    // BuildKit's empty image: PATH set, WorkingDir "/".
    config: { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: '/' },
    history: [],
    args: new Map(),
    shell: ['/bin/sh', '-c'],
    cmdSet: false,
  };
  const lower = ref.toLowerCase();
  const parentIdx = ctx.stages.findIndex((s) => s.name !== undefined && s.name === lower && s.index < stage.index);
  if (parentIdx >= 0) {
    const p = ctx.built.get(parentIdx)!;
    return {
      ...base,
      layers: [...p.layers],
      diffIds: [...p.diffIds],
      chainId: p.chainId,
      image: { ...p.image },
      config: structuredClone(p.config),
      history: p.history.map((h) => ({ ...h })),
      shell: [...p.shell],
    };
  }
  if (lower === 'scratch') return base;
  let stored;
  try {
    stored = await ctx.store.image(ref);
  } catch (err) {
    if (isStrataError(err, 'IMAGE_NOT_FOUND') || isStrataError(err, 'INVALID_REFERENCE'))
      throw new StrataError('IMAGE_NOT_FOUND', `${ctx.filename}:${from.range.start}: base image ${JSON.stringify(ref)} is not in the local store (pulling from a registry is not supported yet)`, {
        hint: `load it first: strata image load -i <archive>`,
      });
    throw lineError(ctx, from.range.start, err);
  }
  const cfg = await stored.image.config();
  const layers = await stored.image.layers();
  const { config: rc, rootfs, history, created: _c, ...rest } = cfg;
  void _c;
  const config: RuntimeConfig = structuredClone(rc ?? {});
  if (!envToMap(config.Env).has('PATH')) config.Env = [`PATH=${DEFAULT_PATH}`, ...(config.Env ?? [])];
  const st: StageState = {
    ...base,
    layers,
    diffIds: [...rootfs.diff_ids],
    chainId: chainIds(rootfs.diff_ids).at(-1) ?? '',
    image: { ...rest, architecture: cfg.architecture, os: cfg.os },
    config,
    history: (history ?? []).map((h) => ({ ...h })),
    shell: config.Shell && config.Shell.length ? [...config.Shell] : ['/bin/sh', '-c'],
  };
  return st;
}

function stepName(stage: Stage, i: number, n: number, text: string): string {
  return `[${stage.name ? `${stage.name} ` : ''}${i}/${n}] ${text}`;
}

async function step<T>(ctx: BuildCtx, name: string, fn: () => Promise<{ cached: boolean; value?: T }>): Promise<T | undefined> {
  const id = ++ctx.stepId;
  const t0 = Date.now();
  ctx.progress({ type: 'step', id, name, status: 'start' });
  try {
    const r = await fn();
    const elapsedMs = Date.now() - t0;
    ctx.progress({ type: 'step', id, name, status: r.cached ? 'cached' : 'done', elapsedMs });
    ctx.steps.push({ id, name, cached: r.cached, elapsedMs });
    return r.value;
  } catch (err) {
    ctx.progress({ type: 'step', id, name, status: 'error', elapsedMs: Date.now() - t0, error: (err as Error)?.message });
    throw err;
  }
}

/** Parse the ONBUILD triggers of a base image into instructions. */
function onbuildTriggers(ctx: BuildCtx, triggers: string[], line: number): Instruction[] {
  const out: Instruction[] = [];
  for (const t of triggers) {
    try {
      const parsed = parseDockerfile(`FROM scratch\n${t}\n`, { filename: `${ctx.filename} (ONBUILD)` });
      for (const i of parsed.stages[0]?.instructions ?? []) out.push({ ...i, range: { start: line, end: line } });
    } catch (err) {
      throw new StrataError('DOCKERFILE_SYNTAX', `${ctx.filename}:${line}: ONBUILD trigger ${JSON.stringify(t)} of the base image: ${(err as Error).message}`);
    }
  }
  return out;
}

async function buildStage(ctx: BuildCtx, stage: Stage): Promise<StageState> {
  const total = stage.instructions.length + 1;
  const st = await step(ctx, stepName(stage, 1, total, stage.from.original), async () => ({ cached: false, value: await newStage(ctx, stage) }));
  const state = st!;
  const triggers = state.config.OnBuild ?? [];
  const list: Instruction[] = [];
  if (triggers.length) {
    list.push(...onbuildTriggers(ctx, triggers, stage.from.range.start));
    state.config.OnBuild = null;
  }
  list.push(...stage.instructions);
  let i = 1;
  for (const ins of list) {
    i++;
    const name = stepName(stage, Math.min(i, total), total, ins.original);
    try {
      await step(ctx, name, async () => {
        const before = state.history.length;
        const r = await dispatch(ctx, state, ins);
        const added = state.history.slice(before);
        if (added.length === 1 && added[0].empty_layer && added[0].created_by !== undefined && ins.kind !== 'workdir') return { cached: await metaCached(ctx, state, added[0].created_by) };
        return r;
      });
    } catch (err) {
      throw lineError(ctx, ins.range.start, err);
    }
  }
  return state;
}

function declareArg(ctx: BuildCtx, st: StageState, name: string, dflt: string | undefined): string | undefined {
  let value: string | undefined;
  if (Object.prototype.hasOwnProperty.call(ctx.buildArgs, name)) {
    value = ctx.buildArgs[name];
    ctx.usedBuildArgs.add(name);
  } else if (dflt !== undefined) value = ctx.lexer.processWord(dflt, scope(st));
  else if (ctx.globalArgs.has(name)) value = ctx.globalArgs.get(name);
  else if (name in predefinedArgs(ctx.platform)) value = predefinedArgs(ctx.platform)[name];
  st.args.set(name, value);
  return value;
}

async function dispatch(ctx: BuildCtx, st: StageState, ins: Instruction): Promise<{ cached: boolean }> {
  const env = scope(st);
  const word = (w: string) => ctx.lexer.processWord(w, env);
  const cfg = st.config;
  switch (ins.kind) {
    case 'arg': {
      const parts: string[] = [];
      for (const a of ins.args) {
        const dflt = a.default !== undefined ? ctx.lexer.processWord(a.default, scope(st)) : undefined;
        declareArg(ctx, st, a.name, a.default);
        parts.push(dflt !== undefined ? `${a.name}=${dflt}` : a.name);
      }
      addMeta(st, `ARG ${parts.join(' ')}`);
      return { cached: true };
    }
    case 'env': {
      const pairs = ins.pairs.map((p) => [word(p.key), word(p.value)] as const);
      for (const [k, v] of pairs) setEnv(cfg, k, v);
      addMeta(st, `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
      return { cached: true };
    }
    case 'label': {
      const pairs = ins.pairs.map((p) => [word(p.key), word(p.value)] as const);
      cfg.Labels = { ...(cfg.Labels ?? {}) };
      for (const [k, v] of pairs) cfg.Labels[k] = v;
      addMeta(st, `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
      return { cached: true };
    }
    case 'maintainer': {
      st.image.author = word(ins.maintainer);
      addMeta(st, `MAINTAINER ${st.image.author}`);
      return { cached: true };
    }
    case 'expose': {
      const ports: string[] = [];
      for (const p of ins.ports) for (const w of ctx.lexer.processWords(p, env)) ports.push(...exposedPorts(w));
      cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}) };
      for (const p of ports) cfg.ExposedPorts[p] = {};
      addMeta(st, `EXPOSE ${goSetMap(ports)}`);
      return { cached: true };
    }
    case 'user': {
      cfg.User = word(ins.user);
      addMeta(st, `USER ${cfg.User}`);
      return { cached: true };
    }
    case 'volume': {
      const vols: string[] = [];
      for (const v of ins.volumes) {
        const x = word(v);
        if (x === '') throw new StrataError('DOCKERFILE_SYNTAX', 'VOLUME specified can not be an empty string');
        vols.push(x);
      }
      cfg.Volumes = { ...(cfg.Volumes ?? {}) };
      for (const v of vols) cfg.Volumes[v] = {};
      addMeta(st, `VOLUME ${goList(vols)}`);
      return { cached: true };
    }
    case 'stopsignal': {
      cfg.StopSignal = word(ins.signal);
      addMeta(st, `STOPSIGNAL ${cfg.StopSignal}`);
      return { cached: true };
    }
    case 'healthcheck': {
      cfg.Healthcheck = healthConfig(ins.health);
      addMeta(st, `HEALTHCHECK ${goQuoteList(ins.health.test)}`);
      return { cached: true };
    }
    case 'shell': {
      st.shell = [...ins.shell];
      cfg.Shell = [...ins.shell];
      addMeta(st, `SHELL ${goList(ins.shell)}`);
      return { cached: true };
    }
    case 'onbuild': {
      cfg.OnBuild = [...(cfg.OnBuild ?? []), ins.expression];
      addMeta(st, `ONBUILD ${ins.expression}`);
      return { cached: true };
    }
    case 'cmd': {
      cfg.Cmd = ins.command.form === 'exec' ? [...ins.command.args] : [...st.shell, ins.command.text];
      cfg.ArgsEscaped = true;
      st.cmdSet = true;
      addMeta(st, `CMD ${goQuoteList(cfg.Cmd)}`);
      return { cached: true };
    }
    case 'entrypoint': {
      cfg.Entrypoint = ins.command.form === 'exec' ? [...ins.command.args] : [...st.shell, ins.command.text];
      cfg.ArgsEscaped = true;
      if (!st.cmdSet) cfg.Cmd = null;
      addMeta(st, `ENTRYPOINT ${goQuoteList(cfg.Entrypoint)}`);
      return { cached: true };
    }
    case 'workdir':
      return workdir(ctx, st, word(ins.path));
    case 'copy':
    case 'add':
      return copy(ctx, st, ins);
    case 'run':
      return runStep(ctx, st, ins, {
        scope: (x) => scope(x as StageState),
        argsInScope: (x) => argsInScope(x as StageState),
        viewOf: (c, x) => viewOf(c as BuildCtx, x as StageState),
        cachedLayer: (c, k, d, p) => cachedLayer(c as BuildCtx, k, d, p),
        addLayer: (c, x, r, b) => addLayer(c as BuildCtx, x as StageState, r, b),
        resolveStage: (ref: string) => stageSource(ctx, ref),
      });
    case 'from':
      throw new StrataError('DOCKERFILE_SYNTAX', 'unexpected FROM');
  }
}

async function workdir(ctx: BuildCtx, st: StageState, path: string): Promise<{ cached: boolean }> {
  const cur = st.config.WorkingDir || '/';
  const abs = posix.normalize(path.startsWith('/') ? path : posix.join(cur, path));
  st.config.WorkingDir = abs.length > 1 ? abs.replace(/\/+$/, '') : abs;
  const createdBy = `WORKDIR ${path}`;
  const key = stepKey(st.chainId, { op: 'workdir', path: st.config.WorkingDir, user: st.config.User ?? '', epoch: ctx.epoch });
  // The directories are created only when missing; the check itself is cached with the key.
  if (!ctx.opts.noCache) {
    const hit = await ctx.cache.get(key);
    if (hit) {
      if (hit.layer) addLayer(ctx, st, hit, createdBy);
      else addMeta(st, createdBy);
      return { cached: true };
    }
  }
  const view = await viewOf(ctx, st);
  const fs = lowerFs(view);
  const rel = st.config.WorkingDir.replace(/^\/+/, '');
  const entries: TarWriteEntry[] = [];
  let owner: Owner = { uid: 0, gid: 0 };
  if (st.config.User) owner = await resolveChown(st.config.User, () => passwdFiles(view)).catch(() => ({ uid: 0, gid: 0 }));
  const now = nowSeconds();
  const parts = rel === '' ? [] : rel.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const p = parts.slice(0, i).join('/');
    const r = fs.resolve(p);
    if (r.type === 'dir') continue;
    entries.push({ path: r.realPath, type: 'dir', mode: 0o755, ...owner, size: 0, mtime: now });
  }
  if (entries.length === 0) {
    await ctx.cache.put({ key, created: new Date().toISOString(), description: createdBy });
    addMeta(st, createdBy);
    return { cached: false };
  }
  const { rec } = await cachedLayer(ctx, key, createdBy, async () => tarOf(ctx, entries));
  addLayer(ctx, st, rec, createdBy);
  return { cached: false };
}

async function passwdFiles(view: UnionView): Promise<{ passwd?: string; group?: string }> {
  const fs = lowerFs(view);
  return { passwd: await readText(view, fs.resolve('etc/passwd').realPath), group: await readText(view, fs.resolve('etc/group').realPath) };
}

/** `--from=`: a stage name, a stage index, or an image in the store. */
async function stageSource(ctx: BuildCtx, ref: string): Promise<{ tree: SourceTree; id: string; layers: Layer[] }> {
  const lower = ref.toLowerCase();
  let idx = ctx.stages.findIndex((s) => s.name === lower);
  if (idx < 0 && /^\d+$/.test(ref)) idx = Number(ref);
  if (idx >= 0 && idx < ctx.stages.length) {
    const st = ctx.built.get(idx);
    if (!st) throw new StrataError('BUILD_FAILED', `stage ${ref} is not built yet`);
    return { tree: viewTree(await viewOf(ctx, st)), id: `stage:${st.chainId}`, layers: st.layers };
  }
  let stored;
  try {
    stored = await ctx.store.image(ref);
  } catch (err) {
    if (isStrataError(err, 'IMAGE_NOT_FOUND') || isStrataError(err, 'INVALID_REFERENCE'))
      throw new StrataError('IMAGE_NOT_FOUND', `--from=${ref}: no stage of that name and no such image in the local store`);
    throw err;
  }
  const cfg = await stored.image.config();
  const pseudo: StageState = {
    index: -1,
    layers: await stored.image.layers(),
    diffIds: cfg.rootfs.diff_ids,
    chainId: chainIds(cfg.rootfs.diff_ids).at(-1) ?? '',
    image: { architecture: cfg.architecture, os: cfg.os },
    config: {},
    history: [],
    args: new Map(),
    shell: [],
    cmdSet: false,
  };
  return { tree: viewTree(await viewOf(ctx, pseudo)), id: `image:${stored.id}`, layers: pseudo.layers };
}

async function copy(ctx: BuildCtx, st: StageState, ins: Extract<Instruction, { kind: 'copy' | 'add' }>): Promise<{ cached: boolean }> {
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
  try {
    for (const u of urls) {
      const file = join(ctx.store.root, 'tmp', `download-${process.pid}-${randomBytes(6).toString('hex')}`);
      downloads.push(file);
      const checksum = ins.kind === 'add' ? ins.checksum : undefined;
      matches.push(checksum !== undefined && SHA256_DIGEST.test(checksum) ? deferredUrl(u, checksum, file) : await fetchUrl(u, checksum, file));
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
): Promise<{ cached: boolean }> {
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
  // Key material: what the sources are by content (context) or by chain (stages, images).
  const keyOf = (): string => {
    let content: unknown;
    if (srcTree.id === 'context') {
      const all = treeNodes(matches);
      const digests = ctx.context.digests(all);
      content = matches.map((m) =>
        isInline(m) ? { name: m.node.path, data: inlineKey(m) } : { root: m.node.path, files: m.nodes.map((n) => [n.path, digests.get(n.path) ?? n.type]), links: hardLinks(m.nodes) },
      );
    } else content = { from: srcTree.id, roots: matches.map((m) => m.node.path) };
    return stepKey(parent, { ...spec, content });
  };
  let key: string;
  const fp = srcTree.id === 'context' && ctx.context.fingerprint && !ctx.opts.noCache ? fingerprintOf(ctx, parent, spec, matches) : undefined;
  const aliased = fp ? await ctx.cache.getAlias(fp.digest, fp.newestMtimeMs) : undefined;
  if (aliased) key = aliased;
  else {
    key = keyOf();
    if (fp) await ctx.cache.putAlias(fp.digest, key);
  }
  // ADD unpacks archives' files here until the layer is written.
  const scratch = join(ctx.store.root, 'tmp', `add-${process.pid}-${randomBytes(6).toString('hex')}`);
  let archives = 0;
  const { rec, cached } = await cachedLayer(ctx, key, createdBy, async () => {
    for (const m of matches) await m.fetch?.();
    const view = await viewOf(ctx, st);
    const owner = chown !== undefined ? await resolveChown(chown, () => passwdFiles(view)) : undefined;
    // --link: the layer does not depend on what is below, so it is planned on an empty filesystem.
    const lower = link ? lowerFs(undefined) : lowerFs(view);
    const entries = await emitEntries(matches, srcTree.tree, {
      dest,
      owner,
      chmod,
      parents,
      now: nowSeconds(),
      lower,
      unpack: ins.kind === 'add' && ins.unpack !== false && from === undefined ? (n, dir) => unpackArchive(n, dir, undefined, join(scratch, String(archives++))) : undefined,
    });
    return tarOf(ctx, entries);
  }).finally(() => rmSync(scratch, { recursive: true, force: true }));
  addLayer(ctx, st, rec, createdBy);
  return { cached };
}

/** stat data of the sources plus the step: equal fingerprints let a hit skip hashing (see LayerCache.getAlias). */
function fingerprintOf(ctx: BuildCtx, parent: string, spec: unknown, matches: SourceMatch[]): { digest: string; newestMtimeMs: number } {
  const f = ctx.context.fingerprint!(treeNodes(matches));
  const inline = matches.filter(isInline).map((m) => [m.node.path, inlineKey(m)]);
  return { digest: stepKey(parent, { spec, roots: matches.map((m) => m.node.path), files: f.digest, inline }), newestMtimeMs: f.newestMtimeMs };
}

const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

/** `ADD --checksum` of a URL: a match keyed by the checksum, downloaded only if the layer is made. */
function deferredUrl(url: string, checksum: string, file: string): SourceMatch {
  const node: SourceNode = { path: urlFileName(url), type: 'file', mode: 0o600, uid: 0, gid: 0, size: 0, mtime: 0, sourcePath: file };
  return {
    node,
    nodes: [node],
    downloaded: checksum,
    fetch: async () => {
      const got = (await fetchUrl(url, checksum, file)).node;
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

async function fetchUrl(url: string, checksum: string | undefined, file: string): Promise<SourceMatch> {
  const res = await download(url, `ADD ${url}`, file);
  if (checksum !== undefined && res.digest !== checksum) {
    throw new StrataError('DIGEST_MISMATCH', `ADD ${url}: digest mismatch ${res.digest}: ${checksum}`);
  }
  const lm = res.lastModified;
  const mtime = lm ? Math.floor(Date.parse(lm) / 1000) : 0;
  const node: SourceNode = { path: urlFileName(url), type: 'file', mode: 0o600, uid: 0, gid: 0, size: res.size, mtime, sourcePath: file };
  return { node, nodes: [node], downloaded: res.digest };
}

/** The nodes of every match from a source tree (a loop, not push(...): a context can have 100k files). */
function treeNodes(matches: SourceMatch[]): SourceNode[] {
  const tree = matches.filter((m) => !isInline(m));
  if (tree.length === 1) return tree[0].nodes;
  const out: SourceNode[] = [];
  for (const m of tree) for (const n of m.nodes) out.push(n);
  return out;
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

/** Stages the target needs, dependencies first; cycles and unknown stages are errors. */
function stageOrder(ctx: BuildCtx, target: number): number[] {
  const order: number[] = [];
  const state = new Map<number, 'visiting' | 'done'>();
  const refOf = (word: string): number | undefined => {
    const lower = word.toLowerCase();
    const i = ctx.stages.findIndex((s) => s.name === lower);
    if (i >= 0) return i;
    if (/^\d+$/.test(word) && Number(word) < ctx.stages.length) return Number(word);
    return undefined;
  };
  const visit = (i: number, line?: number) => {
    const s = state.get(i);
    if (s === 'done') return;
    if (s === 'visiting') {
      const st = ctx.stages[i];
      throw new StrataError('DOCKERFILE_SYNTAX', `${ctx.filename}:${line ?? st.range.start}: circular dependency detected on stage: ${st.name ?? i}`);
    }
    state.set(i, 'visiting');
    const stage = ctx.stages[i];
    const env = new Map<string, string>();
    for (const [k, v] of ctx.globalArgs) if (v !== undefined) env.set(k, v);
    const fromImage = ctx.lexer.processWord(stage.from.image, env).toLowerCase();
    const parent = ctx.stages.findIndex((s) => s.name === fromImage && s.index < i);
    if (parent >= 0) visit(parent, stage.from.range.start);
    for (const ins of stage.instructions) {
      if (ins.kind === 'copy' && ins.from !== undefined) {
        const r = refOf(ins.from);
        if (r !== undefined) {
          if (r === i) throw new StrataError('DOCKERFILE_SYNTAX', `${ctx.filename}:${ins.range.start}: circular dependency detected on stage: ${stage.name ?? i}`);
          visit(r, ins.range.start);
        }
      }
      if (ins.kind === 'run') {
        for (const m of ins.mounts) {
          if (m.from === undefined) continue;
          const r = refOf(m.from);
          if (r !== undefined && r !== i) visit(r, ins.range.start);
        }
      }
    }
    state.set(i, 'done');
    order.push(i);
  };
  visit(target);
  return order;
}

function globalScope(ctx: BuildCtx, globals: ArgInstruction[]): void {
  const pre = predefinedArgs(ctx.platform);
  for (const [k, v] of Object.entries(pre)) ctx.globalArgs.set(k, v);
  for (const g of globals) {
    for (const a of g.args) {
      const env = new Map<string, string>();
      for (const [k, v] of ctx.globalArgs) if (v !== undefined) env.set(k, v);
      let value: string | undefined;
      if (Object.prototype.hasOwnProperty.call(ctx.buildArgs, a.name)) {
        value = ctx.buildArgs[a.name];
        ctx.usedBuildArgs.add(a.name);
      } else if (a.default !== undefined) {
        try {
          value = ctx.lexer.processWord(a.default, env);
        } catch (err) {
          throw lineError(ctx, g.range.start, err);
        }
      }
      ctx.globalArgs.set(a.name, value);
    }
  }
}

/** Build a Dockerfile into an image in the store (tagged with `tags`). */
export async function build(opts: BuildOptions): Promise<BuildResult> {
  const contextDir = resolve(opts.contextDir);
  const dockerfilePath = opts.dockerfilePath !== undefined ? resolve(opts.dockerfilePath) : join(contextDir, 'Dockerfile');
  const filename = opts.dockerfileText !== undefined ? 'Dockerfile' : posix.basename(dockerfilePath);
  let text = opts.dockerfileText;
  if (text === undefined) {
    try {
      text = readFileSync(dockerfilePath, 'utf8');
    } catch (err) {
      throw new StrataError('NOT_FOUND', `cannot read ${dockerfilePath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const buildArgs = { ...(opts.buildArgs ?? {}) };
  const sde = opts.sourceDateEpoch ?? (buildArgs.SOURCE_DATE_EPOCH !== undefined ? Number(buildArgs.SOURCE_DATE_EPOCH) : undefined);
  if (sde !== undefined && (!Number.isInteger(sde) || sde < 0)) throw new StrataError('USAGE', `invalid SOURCE_DATE_EPOCH ${JSON.stringify(String(sde))}`);
  const parsed = parseDockerfile(text, { filename, buildArgs });
  const matcher = loadIgnore(contextDir, opts.dockerfileText !== undefined ? undefined : dockerfilePath);
  const progress = opts.progress ?? (() => undefined);
  for (const w of parsed.warnings) progress({ type: 'warning', message: `${w.rule}: ${w.message}`, line: w.range.start });
  const ctx: BuildCtx = {
    // Absolute from here on: the paths reach the OCI runtime, which resolves relative ones against its bundle.
    opts: { ...opts, contextDir, dockerfilePath },
    store: opts.store,
    cache: openLayerCache(opts.store.blobs),
    filename,
    lexer: createLexer({ escape: parsed.directives.escape }),
    stages: parsed.stages,
    built: new Map(),
    globalArgs: new Map(),
    buildArgs,
    usedBuildArgs: new Set(),
    context: contextTree(contextDir, matcher, join(opts.store.root, 'context-cache')),
    epoch: sde,
    stepId: 0,
    steps: [],
    progress,
    platform: parsePlatform(opts.platform),
  };
  let target = parsed.stages.length - 1;
  try {
    if (parsed.stages.length === 0) throw new StrataError('DOCKERFILE_SYNTAX', `${filename}: no FROM instruction`);
    globalScope(ctx, parsed.globalArgs);
    if (opts.target !== undefined) {
      target = parsed.stages.findIndex((s) => s.name === opts.target!.toLowerCase());
      if (target < 0) throw new StrataError('NOT_FOUND', `target stage "${opts.target}" could not be found`);
    }
    for (const i of stageOrder(ctx, target)) ctx.built.set(i, await buildStage(ctx, parsed.stages[i]));
  } finally {
    ctx.context.close?.();
  }
  const final = ctx.built.get(target)!;

  const unused = Object.keys(buildArgs).filter((k) => !ctx.usedBuildArgs.has(k) && !PROXY_ARGS.includes(k) && k !== 'SOURCE_DATE_EPOCH');
  if (unused.length) progress({ type: 'warning', message: `One or more build-args [${unused.join(' ')}] were not consumed` });

  if (opts.labels && Object.keys(opts.labels).length) final.config.Labels = { ...(final.config.Labels ?? {}), ...opts.labels };
  const now = new Date().toISOString();
  let { history, created } = fillHistoryTimes(final.history, now);
  if (sde !== undefined) {
    const t = new Date(sde * 1000).toISOString().replace('.000Z', 'Z');
    history = history.map((h) => ({ ...h, created: t }));
    created = t;
  }
  history = history.map((h) => {
    const { created: c, created_by, author, comment, empty_layer } = h;
    return { created: c, created_by, author, comment, ...(empty_layer ? { empty_layer } : {}) };
  });
  const config: ImageConfig = {
    ...final.image,
    created,
    config: final.config,
    rootfs: { type: 'layers', diff_ids: final.diffIds },
    history,
  };
  const image = imageFromParts({ rawConfig: Buffer.from(JSON.stringify(config)), layers: final.layers });
  const tags = opts.tags ?? [];
  // An unchanged rebuild whose tags already name this image leaves the store as it is.
  const id = await image.configDigest();
  const manifestDigest = await image.digest();
  if (tags.length > 0) {
    const current = await Promise.all(tags.map((t) => ctx.store.image(t).catch(() => undefined)));
    if (current.every((c) => c !== undefined && c.id === id && c.manifestDigest === manifestDigest)) {
      return { id, manifestDigest, tags: current[0]!.tags.filter((t) => current.some((c) => c!.tags.includes(t))), steps: ctx.steps, contextFilesRead: ctx.context.filesRead };
    }
  }
  const stored = await ctx.store.putImage(image, { tags });
  return { id: stored.id, manifestDigest: stored.manifestDigest, tags: stored.tags, steps: ctx.steps, contextFilesRead: ctx.context.filesRead };
}
