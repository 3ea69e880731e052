import { StrataError } from '@strata/errors';
import type { Digest, HistoryEntry, RuntimeConfig } from '@strata/oci';
import { dockerfileErrorLine, type Lexer, type Stage } from '@strata/dockerfile';
import type { Layer } from '@strata/layer';
import type { UnionView } from '@strata/unionfs';
import type { LayerCache } from '@strata/layer-cache';
import type { Store } from '@strata/image-store';
import { envToMap } from './runtime-config';
import type { SourceTree } from './source-tree';
import type { BuildOptions, ProgressEvent, StepReport } from './types';

/** The history comment of every step, as BuildKit writes it. */
export const COMMENT = 'buildkit.dockerfile.v0';

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

/** What one build shares across its stages and steps. */
export interface BuildCtx {
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

export function lineError(ctx: BuildCtx, line: number, err: unknown): StrataError {
  if (dockerfileErrorLine(err) !== undefined && err instanceof StrataError) return err;
  if (err instanceof StrataError) {
    if (err.message.startsWith(`${ctx.filename}:`)) return err;
    return new StrataError(err.code, `${ctx.filename}:${line}: ${err.message}`, { hint: err.hint, cause: err.cause ?? err });
  }
  const e = err as Error;
  return new StrataError('BUILD_FAILED', `${ctx.filename}:${line}: ${e?.message ?? String(err)}`, { cause: err });
}

export function predefinedArgs(platform: BuildCtx['platform']): Record<string, string> {
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

export function parsePlatform(p: string | undefined): BuildCtx['platform'] {
  if (!p) return { os: 'linux', architecture: 'amd64' };
  const [os, architecture, variant] = p.split('/');
  if (!os || !architecture) throw new StrataError('USAGE', `invalid platform "${p}": want os/arch[/variant]`);
  return { os, architecture, variant };
}

/** Expansion scope: ARGs with values, then ENV (ENV wins over an ARG of the same name). */
export function scope(st: StageState): Map<string, string> {
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

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
