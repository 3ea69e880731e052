// dive's view of an image (github.com/wagoodman/dive): its analysis, its `--json` document and
// its CI gate (`ci/rules.go`, `ci/evaluator.go`), reproduced so that thresholds, scripts and
// habits carry over. The numbers come from efficiency.ts; this file adds the layer facts, the
// JSON shape, the rules and the text dive prints in CI mode.
import { StrataError } from '@strata/errors';
import { efficiencyAnalyzer, type EfficiencyEntry, type EfficiencyOptions, type EfficiencyReport, type WastedPath } from './efficiency';

export interface DiveLayerInput {
  diffId: string;
  /** The layer's tar entries (read when the analysis reaches the layer, then dropped). */
  entries: () => Promise<Iterable<EfficiencyEntry>>;
}

export interface DiveInput {
  /** What the user named (dive's `image`). */
  name: string;
  config: Record<string, unknown>;
  layers: DiveLayerInput[];
}

export interface DiveLayer {
  index: number;
  /** dive: the layer's name in the archive; strata: the diffID's hex. */
  id: string;
  /** The layer's diffID (dive's `digestId`). */
  digestId: string;
  sizeBytes: number;
  /** The history entry's `created_by` without `/bin/sh -c ` (dive: "(missing)" when there is none). */
  command: string;
}

export interface DiveAnalysis extends EfficiencyReport {
  image: string;
  diveLayers: DiveLayer[];
}

interface HistoryEntry {
  created_by?: string;
  empty_layer?: boolean;
}

/** The command of each layer: non-empty history entries in order, as dive pairs them. */
export function layerCommands(config: Record<string, unknown>, count: number): string[] {
  const history = (Array.isArray(config.history) ? config.history : []) as HistoryEntry[];
  const full = history.filter((h) => !h?.empty_layer);
  return Array.from({ length: count }, (_, i) => {
    const h = full[i];
    if (!h) return '(missing)';
    const by = h.created_by ?? '';
    return by.startsWith('/bin/sh -c ') ? by.slice('/bin/sh -c '.length) : by;
  });
}

/** Read the layers one at a time and analyse them (dive's `image.Analyze`). */
export async function diveAnalysis(input: DiveInput, opts: EfficiencyOptions = {}): Promise<DiveAnalysis> {
  const a = efficiencyAnalyzer(opts);
  for (const l of input.layers) a.addLayer(await l.entries());
  const r = a.result();
  const commands = layerCommands(input.config, input.layers.length);
  const diveLayers = input.layers.map((l, i) => ({
    index: i,
    id: l.diffId.replace(/^sha256:/, ''),
    digestId: l.diffId,
    sizeBytes: r.layers[i].sizeBytes,
    command: commands[i],
  }));
  return { ...r, image: input.name, diveLayers };
}

/** A path in dive's `fileReference` list, with strata's explanation beside dive's three keys. */
export interface DiveFileReference {
  count: number;
  sizeBytes: number;
  file: string;
  reclaimableBytes: number;
  layers: WastedPath['layers'];
  why: string;
}

/** dive's `--json` document (its key order), plus strata's figures under keys dive does not use. */
export function diveJson(a: DiveAnalysis) {
  return {
    layer: a.diveLayers.map((l) => ({ index: l.index, id: l.id, digestId: l.digestId, sizeBytes: l.sizeBytes, command: l.command })),
    image: {
      sizeBytes: a.sizeBytes,
      inefficientBytes: a.wastedBytes,
      efficiencyScore: a.efficiency,
      fileReference: a.inefficiencies.map(
        (p): DiveFileReference => ({ count: p.count, sizeBytes: p.sizeBytes, file: p.file, reclaimableBytes: p.reclaimableBytes, layers: p.layers, why: p.why }),
      ),
      userSizeBytes: a.userSizeBytes,
      // null where dive's figure is NaN (no user bytes): JSON has no NaN.
      wastedUserPercent: Number.isFinite(a.wastedUserPercent) ? a.wastedUserPercent : null,
      reclaimableBytes: a.reclaimableBytes,
    },
  };
}

// ---- the CI gate ------------------------------------------------------------------------------

export type RuleKey = 'lowestEfficiency' | 'highestWastedBytes' | 'highestUserWastedPercent';

/** The rules as configured: the raw text of each (dive prints it back), "" / disabled / off / false to disable. */
export type CiRuleConfig = Record<RuleKey, string>;

export const DEFAULT_CI_RULES: CiRuleConfig = { lowestEfficiency: '0.9', highestWastedBytes: 'disabled', highestUserWastedPercent: '0.1' };

export type RuleStatus = 'PASS' | 'FAIL' | 'SKIP';

export interface RuleResult {
  rule: RuleKey;
  status: RuleStatus;
  /** dive's text in parentheses: the failure, the configured value, or "disabled". */
  message: string;
}

export interface CiEvaluation {
  pass: boolean;
  /** Sorted by rule name, as dive prints them. */
  results: RuleResult[];
}

const isDisabled = (v: string) => ['', 'disabled', 'off', 'false'].includes(v.trim().toLowerCase());

/** go-humanize ParseBytes: "20MB", "19Mb", "1.5 GiB", "1,000" (SI and IEC units, case-insensitive). */
export function parseHumanBytes(s: string): number | undefined {
  const m = /^([0-9.,]*)(.*)$/su.exec(s)!;
  const num = m[1].replace(/,/g, '');
  if (!/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(num)) return undefined;
  const units: Record<string, number> = { b: 1, '': 1 };
  const pre = ['k', 'm', 'g', 't', 'p', 'e'];
  pre.forEach((p, i) => {
    units[`${p}b`] = units[p] = 1000 ** (i + 1);
    units[`${p}ib`] = units[`${p}i`] = 1024 ** (i + 1);
  });
  const unit = units[m[2].trim().toLowerCase()];
  if (unit === undefined) return undefined;
  const v = Number(num) * unit;
  return v >= 2 ** 64 ? undefined : Math.trunc(v);
}

function parseRatio(key: RuleKey, v: string): number {
  const n = Number(v.trim());
  if (v.trim() === '' || !Number.isFinite(n)) throw new StrataError('USAGE', `invalid ${key} config value, given "${v}"`);
  if (n < 0 || n > 1) throw new StrataError('USAGE', `${key} config value is outside allowed range (0-1), given '${n.toFixed(6)}'`);
  return n;
}

/** Check the rule values (USAGE errors as dive words them) before any image is read. */
export function checkCiRules(rules: CiRuleConfig): void {
  if (!isDisabled(rules.lowestEfficiency)) parseRatio('lowestEfficiency', rules.lowestEfficiency);
  if (!isDisabled(rules.highestUserWastedPercent)) parseRatio('highestUserWastedPercent', rules.highestUserWastedPercent);
  if (!isDisabled(rules.highestWastedBytes) && parseHumanBytes(rules.highestWastedBytes) === undefined) {
    throw new StrataError('USAGE', `invalid highestWastedBytes config value, given "${rules.highestWastedBytes}"`);
  }
}

export function evaluateCi(a: EfficiencyReport, rules: CiRuleConfig): CiEvaluation {
  checkCiRules(rules);
  const results: RuleResult[] = [];
  const { lowestEfficiency: le, highestWastedBytes: hw, highestUserWastedPercent: hu } = rules;
  if (isDisabled(hu)) results.push({ rule: 'highestUserWastedPercent', status: 'SKIP', message: 'disabled' });
  else {
    const t = parseRatio('highestUserWastedPercent', hu);
    results.push(
      a.wastedUserPercent > t
        ? { rule: 'highestUserWastedPercent', status: 'FAIL', message: `too many bytes wasted, relative to the user bytes added (%-user-wasted-bytes=${goFixed(a.wastedUserPercent, 2)} > threshold=${goFloat(t)})` }
        : { rule: 'highestUserWastedPercent', status: 'PASS', message: hu },
    );
  }
  if (isDisabled(hw)) results.push({ rule: 'highestWastedBytes', status: 'SKIP', message: 'disabled' });
  else {
    const t = parseHumanBytes(hw)!;
    results.push(
      a.wastedBytes > t
        ? { rule: 'highestWastedBytes', status: 'FAIL', message: `too many bytes wasted (wasted-bytes=${a.wastedBytes} > threshold=${t})` }
        : { rule: 'highestWastedBytes', status: 'PASS', message: hw },
    );
  }
  if (isDisabled(le)) results.push({ rule: 'lowestEfficiency', status: 'SKIP', message: 'disabled' });
  else {
    const t = parseRatio('lowestEfficiency', le);
    results.push(
      t > a.efficiency
        ? { rule: 'lowestEfficiency', status: 'FAIL', message: `image efficiency is too low (efficiency=${goFixed(a.efficiency, 2)} < threshold=${goFloat(t)})` }
        : { rule: 'lowestEfficiency', status: 'PASS', message: le },
    );
  }
  return { pass: !results.some((r) => r.status === 'FAIL'), results };
}

/** The text dive prints in CI mode: Analysis, Inefficient Files, Evaluation and the summary line. */
export function renderDiveCi(a: EfficiencyReport, ev: CiEvaluation): string {
  const kv = (k: string, v: string) => `  ${`${k}:`.padEnd(18)} ${v}`;
  const analysis = [
    'Analysis:',
    kv('efficiency', `${goFixed(a.efficiency * 100, 2)} %`),
    kv('wastedBytes', `${a.wastedBytes} bytes ${a.wastedBytes > 0 ? `(${humanizeBytes(a.wastedBytes)})` : ''}`),
    kv('userWastedPercent', a.wastedBytes > 0 ? `${goFixed(a.wastedUserPercent * 100, 2)} %` : '0 %'),
  ].join('\n');
  const row = (c: string, s: string, p: string) => `  ${c.padEnd(5)}  ${s.padEnd(12)}  ${p}`;
  const files = a.inefficiencies.length
    ? ['Inefficient Files:', row('Count', 'Wasted Space', 'File Path'), ...a.inefficiencies.map((p) => row(String(p.count), humanizeBytes(p.sizeBytes), p.file))].join('\n')
    : 'Inefficient Files: (None)';
  const tally = { pass: 0, fail: 0, warn: 0, skip: 0 };
  for (const r of ev.results) tally[r.status === 'PASS' ? 'pass' : r.status === 'FAIL' ? 'fail' : 'skip']++;
  const parts = Object.entries(tally)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k}:${n}`);
  const evaluation = ['Evaluation:', ...ev.results.map((r) => `  ${r.status}  ${r.rule} (${r.message})`), '', `${tally.fail > 0 ? 'FAIL' : 'PASS'} [${parts.join(' ')}]`].join('\n');
  return `${[analysis, files, evaluation].join('\n\n')}\n`;
}

/** go-humanize Bytes: "0 B", "131 B", "6.4 kB", "32 kB", "1.2 MB" (SI, one decimal below 10). */
export function humanizeBytes(n: number): string {
  if (n < 10) return `${n} B`;
  const sizes = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  const e = Math.floor(Math.log(n) / Math.log(1000));
  const val = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10;
  return `${val < 10 ? goFixed(val, 1) : goFixed(val, 0)} ${sizes[e]}`;
}

/** Go's %.{digits}f: correctly rounded, and an exact tie goes to the even digit (JS rounds it up). */
export function goFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? '+Inf' : '-Inf';
  const long = Math.abs(x).toFixed(Math.min(100, digits + 40));
  const dot = long.indexOf('.');
  const cut = dot + digits + 1;
  if (long[cut] === '5' && /^0*$/.test(long.slice(cut + 1))) {
    const kept = long.slice(0, digits ? cut : dot);
    const last = Number(kept[kept.length - 1]);
    if (last % 2 === 0) return `${x < 0 ? '-' : ''}${kept}`;
  }
  return x.toFixed(digits);
}

/** Go's %v of a float64: shortest digits, exponent form below 1e-4 and from 1e21 (as strconv 'g' -1). */
export function goFloat(x: number): string {
  if (x === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(x)));
  if (exp < -4 || exp >= 21) {
    const [m, e] = x.toExponential().split('e');
    const ev = Number(e);
    return `${m}e${ev < 0 ? '-' : '+'}${String(Math.abs(ev)).padStart(2, '0')}`;
  }
  return String(x);
}

/**
 * A `.dive-ci` file: a `rules:` mapping whose keys may be dive's camelCase (`lowestEfficiency`) or
 * kebab-case (`lowest-efficiency`). Values are kept as written (dive prints them back). Only this
 * subset of YAML is read: `key: value` lines, comments, quotes; other keys are ignored, as dive does.
 */
export function parseDiveCi(text: string, what = '.dive-ci'): CiRuleConfig {
  const rules: CiRuleConfig = { ...DEFAULT_CI_RULES };
  const names: Record<string, RuleKey> = {
    lowestefficiency: 'lowestEfficiency',
    'lowest-efficiency': 'lowestEfficiency',
    highestwastedbytes: 'highestWastedBytes',
    'highest-wasted-bytes': 'highestWastedBytes',
    highestuserwastedpercent: 'highestUserWastedPercent',
    'highest-user-wasted-percent': 'highestUserWastedPercent',
  };
  let inRules = false;
  let rulesIndent = -1;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '');
    if (!line.trim() || line.trim() === '---') return;
    const indent = line.length - line.trimStart().length;
    const m = /^\s*([^:\s][^:]*?)\s*:(?:\s+(.*?))?\s*$/.exec(line);
    if (indent === 0) {
      inRules = m?.[1] === 'rules' && !m[2];
      rulesIndent = -1;
      return;
    }
    if (!inRules) return;
    if (!m) throw new StrataError('USAGE', `${what}:${i + 1}: not a "key: value" line`);
    if (rulesIndent < 0) rulesIndent = indent;
    if (indent !== rulesIndent) return;
    const key = names[m[1].replace(/^(['"])(.*)\1$/, '$2').toLowerCase()];
    if (!key) return;
    let value = m[2] ?? '';
    const q = /^(['"])(.*)\1$/.exec(value);
    if (q) value = q[2];
    rules[key] = value;
  });
  return rules;
}
