import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { posix } from 'node:path';
import { StrataError } from '@strata/errors';
import { type ImageConfig } from '@strata/oci';
import { createLexer, parseDockerfile, type ArgInstruction, type Instruction, type Stage } from '@strata/dockerfile';
import { loadIgnore } from '@strata/context';
import { imageFromParts } from '@strata/image';
import { openLayerCache } from '@strata/layer-cache';
import { lineError, parsePlatform, predefinedArgs, type BuildCtx, type StageState } from './build-state';
import { metaCached } from './stage-layers';
import { newStage, stageOrder } from './stages';
import { dispatch } from './dispatch';
import { fillHistoryTimes } from './history';
import { contextTree } from './source-tree';
import { PROXY_ARGS } from './run-step';
import type { BuildOptions, BuildResult, StepReport } from './types';

function stepName(stage: Stage, i: number, n: number, text: string): string {
  return `[${stage.name ? `${stage.name} ` : ''}${i}/${n}] ${text}`;
}

async function step<T>(ctx: BuildCtx, name: string, fn: () => Promise<{ cached: boolean; value?: T; files?: StepReport['files'] }>): Promise<T | undefined> {
  const id = ++ctx.stepId;
  const t0 = Date.now();
  ctx.progress({ type: 'step', id, name, status: 'start' });
  try {
    const r = await fn();
    await ctx.store.checkpoint('step-done');
    const elapsedMs = Date.now() - t0;
    ctx.progress({ type: 'step', id, name, status: r.cached ? 'cached' : 'done', elapsedMs });
    ctx.steps.push({ id, name, cached: r.cached, elapsedMs, ...(r.files ? { files: r.files } : {}) });
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
    cache: opts.layerCache ?? openLayerCache(opts.store.blobs),
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
  if (parsed.stages.length === 0) throw new StrataError('DOCKERFILE_SYNTAX', `${filename}: no FROM instruction`);
  globalScope(ctx, parsed.globalArgs);
  if (opts.target !== undefined) {
    target = parsed.stages.findIndex((s) => s.name === opts.target!.toLowerCase());
    if (target < 0) throw new StrataError('NOT_FOUND', `target stage "${opts.target}" could not be found`);
  }
  for (const i of stageOrder(ctx, target)) ctx.built.set(i, await buildStage(ctx, parsed.stages[i]));
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
