import { StrataError, isStrataError } from '@strata/errors';
import { chainIds, type RuntimeConfig } from '@strata/oci';
import type { Stage } from '@strata/dockerfile';
import type { Layer } from '@strata/layer';
import { lineError, type BuildCtx, type StageState } from './build-state';
import { viewOf } from './stage-layers';
import { DEFAULT_PATH, envToMap } from './runtime-config';
import { viewTree, type SourceTree } from './source-tree';
import { baseImage } from './pull-base';

// Stages: the state a stage starts from (scratch, an earlier stage, an image), what `--from=`
// names, and the order stages are built in.

export async function newStage(ctx: BuildCtx, stage: Stage): Promise<StageState> {
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
    stored = await baseImage(ctx, ref);
  } catch (err) {
    if (isStrataError(err, 'IMAGE_NOT_FOUND') || isStrataError(err, 'INVALID_REFERENCE'))
      throw new StrataError('IMAGE_NOT_FOUND', `${ctx.filename}:${from.range.start}: base image ${JSON.stringify(ref)} is not in the local store`, {
        hint: `pull it (strata pull ${ref}) or load it (strata image load -i <archive>)`,
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

/** `--from=`: a stage name, a stage index, or an image in the store. */
export async function stageSource(ctx: BuildCtx, ref: string): Promise<{ tree: SourceTree; id: string; layers: Layer[] }> {
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

/** Stages the target needs, dependencies first; cycles and unknown stages are errors. */
export function stageOrder(ctx: BuildCtx, target: number): number[] {
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
