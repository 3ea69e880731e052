// `strata image efficiency REF`: dive's numbers for an image (efficiency, wasted bytes, user
// wasted percent, the inefficient files), its `--json` document with `--format json`, and its CI
// gate with `--ci` (`.dive-ci` or the three rule flags; exit 1 when the gate fails). REF is a
// store reference, `docker-archive:FILE[:REF]` or `oci:DIR[:REF]`.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { createMatcher } from '@strata/dockerignore';
import { StrataError } from '@strata/errors';
import { loadImages } from '@strata/image';
import { openStore } from '@strata/image-store';
import {
  DEFAULT_CI_RULES,
  checkCiRules,
  diveAnalysis,
  diveJson,
  evaluateCi,
  humanizeBytes,
  parseDiveCi,
  renderDiveCi,
  goFixed,
  type CiRuleConfig,
  type DiveInput,
} from '@strata/inspect';
import { normalizeReference } from '@strata/oci';
import type { LayerSource } from '@strata/unionfs';
import { action, collect, type CommandContext, type CommandResult, type Io } from '../runner';
import { findImage } from './image-inspect';

/** An image to analyse and what to clean up after (a temporary store for archive inputs). */
export interface AnalysisInput {
  input: DiveInput;
  /** The layers' tars, for readers that need more than the entries (unionfs). */
  sources: LayerSource[];
  /** The image config, parsed. */
  config: Record<string, unknown>;
  id: string;
  close(): Promise<void>;
}

const ARCHIVE = /^(docker-archive|oci|oci-archive):(.+)$/;

/** Split `FILE[:REF]`: the whole text when such a file exists, else at its first colon. */
function splitArchive(rest: string): { path: string; ref?: string } {
  if (existsSync(rest)) return { path: rest };
  const i = rest.indexOf(':');
  return i < 0 ? { path: rest } : { path: rest.slice(0, i), ref: rest.slice(i + 1) };
}

/**
 * Resolve REF for analysis: a store reference, or an archive (`docker-archive:FILE[:REF]`,
 * `oci:DIR[:REF]`) loaded, verified, into a temporary store that `close()` removes.
 */
export async function openAnalysisInput(ctx: CommandContext, ref: string): Promise<AnalysisInput> {
  const m = ARCHIVE.exec(ref);
  if (!m) {
    const store = await openStore(ctx.globals.root);
    const img = await findImage(store, ref);
    return {
      input: { name: ref, config: img.config, layers: img.layers.map((l) => ({ diffId: l.diffId, entries: l.headers })) },
      sources: img.layers.map((l) => l.source),
      config: img.config,
      id: img.id,
      close: async () => {},
    };
  }
  const { path, ref: wanted } = splitArchive(m[2]);
  if (!existsSync(path)) throw new StrataError('NOT_FOUND', `${m[1]}: ${path} does not exist`);
  const root = await mkdtemp(join(tmpdir(), 'strata-analyse-'));
  const close = () => rm(root, { recursive: true, force: true });
  try {
    const loaded = await loadImages({ root, openStore: () => openStore(root), source: { path } });
    let pick = loaded[0];
    if (wanted !== undefined) {
      const want = normalizeReference(wanted);
      pick = loaded.find((l) => l.tags.includes(want) || l.id === wanted || l.id === `sha256:${wanted}`)!;
      if (!pick) throw new StrataError('IMAGE_NOT_FOUND', `${path} has no image ${wanted}`);
    } else if (loaded.length > 1) {
      throw new StrataError('USAGE', `${path} holds ${loaded.length} images; name one: ${m[1]}:${path}:REF`);
    }
    const store = await openStore(root);
    const img = await findImage(store, pick.id);
    return {
      input: { name: ref, config: img.config, layers: img.layers.map((l) => ({ diffId: l.diffId, entries: l.headers })) },
      sources: img.layers.map((l) => l.source),
      config: img.config,
      id: img.id,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export interface EfficiencyOptions {
  ci?: boolean;
  ciConfig?: string;
  lowestEfficiency?: string;
  highestWastedBytes?: string;
  highestUserWastedPercent?: string;
  exclude?: string[];
  failBelow?: string;
  top?: string;
}

/** The rules of the gate: defaults, then `.dive-ci` (or --ci-config), then the flags. */
function ciRules(ctx: CommandContext, opts: EfficiencyOptions): CiRuleConfig {
  let rules: CiRuleConfig = { ...DEFAULT_CI_RULES };
  const file = opts.ciConfig ?? '.dive-ci';
  if (existsSync(file)) rules = parseDiveCi(readFileSync(file, 'utf8'), file);
  else if (opts.ciConfig !== undefined) throw new StrataError('NOT_FOUND', `CI config ${opts.ciConfig} does not exist`);
  if (opts.lowestEfficiency !== undefined) rules.lowestEfficiency = opts.lowestEfficiency;
  if (opts.highestWastedBytes !== undefined) rules.highestWastedBytes = opts.highestWastedBytes;
  if (opts.highestUserWastedPercent !== undefined) rules.highestUserWastedPercent = opts.highestUserWastedPercent;
  checkCiRules(rules);
  ctx.debug(`CI rules: ${JSON.stringify(rules)}`);
  return rules;
}

export function excludeMatcher(globs: string[] | undefined): ((path: string) => boolean) | undefined {
  if (!globs?.length) return undefined;
  const m = createMatcher(globs, { source: '--exclude' });
  return (p) => m.matches(p);
}

export async function runImageEfficiency(ctx: CommandContext, ref: string, opts: EfficiencyOptions): Promise<CommandResult> {
  const failBelow = opts.failBelow === undefined ? undefined : Number(opts.failBelow);
  if (failBelow !== undefined && !(failBelow >= 0 && failBelow <= 1)) throw new StrataError('USAGE', `--fail-below must be a ratio between 0 and 1, not "${opts.failBelow}"`);
  const top = opts.top === undefined ? 20 : Number(opts.top);
  if (!Number.isInteger(top) || top < 0) throw new StrataError('USAGE', `--top must be a whole number, not "${opts.top}"`);
  const rules = opts.ci ? ciRules(ctx, opts) : undefined;
  const exclude = excludeMatcher(opts.exclude);
  const src = await openAnalysisInput(ctx, ref);
  let analysis;
  try {
    analysis = await diveAnalysis(src.input, { exclude });
  } finally {
    await src.close();
  }
  const evaluation = rules ? evaluateCi(analysis, rules) : undefined;
  // Exit 1 = "found something": a failed gate, or a score below --fail-below.
  const failed = (evaluation && !evaluation.pass) || (failBelow !== undefined && analysis.efficiency < failBelow);
  const exitCode = failed ? 1 : 0;
  if (ctx.globals.format === 'json') {
    const doc = diveJson(analysis);
    return { kind: 'json', value: evaluation ? { ...doc, ci: evaluation } : doc, exitCode };
  }
  if (evaluation) return { kind: 'text', text: renderDiveCi(analysis, evaluation), exitCode };
  return { kind: 'text', text: renderSummary(analysis, top), exitCode };
}

/** The people-facing summary: dive's Image Details panel. */
function renderSummary(a: Awaited<ReturnType<typeof diveAnalysis>>, top: number): string {
  const lines = [
    `Total Image size: ${humanizeBytes(a.sizeBytes)}`,
    `Potential wasted space: ${humanizeBytes(a.wastedBytes)}`,
    `Image efficiency score: ${goFixed(a.efficiency * 100, 0)} %`,
    `Reclaimable by a rebuild: ${humanizeBytes(a.reclaimableBytes)}`,
  ];
  if (a.inefficiencies.length) {
    lines.push('', `${'Count'.padEnd(7)}${'Total Space'.padEnd(14)}Path`);
    for (const p of a.inefficiencies.slice(0, top)) lines.push(`${String(p.count).padEnd(7)}${humanizeBytes(p.sizeBytes).padEnd(14)}${p.file}`);
    if (a.inefficiencies.length > top) lines.push(`… ${a.inefficiencies.length - top} more (--top N, or --format json)`);
  }
  return `${lines.join('\n')}\n`;
}

export function register(image: Command, io: Io): void {
  image
    .command('efficiency')
    .description("wasted space as dive counts it: efficiency score, wasted bytes, inefficient files; a CI gate with --ci")
    .argument('<ref>', 'image reference or ID, docker-archive:FILE[:REF] or oci:DIR[:REF]')
    .option('--ci', "evaluate dive's CI rules (from .dive-ci or the flags below) and print dive's CI report; exit 1 when a rule fails")
    .option('--ci-config <file>', 'the CI rules file (default .dive-ci in the current directory, when present)')
    .option('--lowestEfficiency <ratio>', 'fail below this efficiency, 0..1 (default 0.9; "disabled" to skip)')
    .option('--highestWastedBytes <size>', 'fail above these wasted bytes, e.g. 20MB (default disabled)')
    .option('--highestUserWastedPercent <ratio>', 'fail above this ratio of wasted to user bytes, 0..1 (default 0.1)')
    .option('--exclude <glob>', 'leave paths matching GLOB (.dockerignore syntax) out of the figures (repeatable)', collect, [])
    .option('--fail-below <ratio>', 'exit 1 when the efficiency score is below RATIO (0..1)')
    .option('--top <n>', 'how many paths to list (default 20)')
    .action(action(io, (ctx, ref: string, opts: EfficiencyOptions) => runImageEfficiency(ctx, ref, opts)));
}
