import { goQuote, parseGoDuration, suggestion, trimSpace } from './go-text';
import { chompHeredoc, runHeredocPlan } from './heredoc';
import { parseHeredocWord } from './heredoc-word';
import { parseFlags, type FlagKind, type ParsedFlags } from './flags';
import { INSTRUCTION_NAMES, isInstructionName } from './instruction-info';
import { lintStages } from './lint';
import { parseMount } from './mount';
import { ruleWarning } from './rules';
import { dockerfileErrorLine, syntaxError } from './syntax-error';
import type {
  ArgInstruction,
  Ast,
  CommandLine,
  Instruction,
  InstructionBase,
  InstructionNode,
  InstructionsResult,
  KeyValue,
  Mount,
  SourceContent,
  Stage,
  ToInstructionsOptions,
  Warning,
} from './types';

/**
 * AST → typed instructions grouped into stages, global ARGs, and build-check warnings
 * (BuildKit `instructions.Parse` plus the checks of `dockerfile2llb` that need no image).
 * Throws StrataError DOCKERFILE_SYNTAX `Dockerfile:LINE: message`.
 */
export function toInstructions(ast: Ast, options: ToInstructionsOptions = {}): InstructionsResult {
  const filename = options.filename ?? 'Dockerfile';
  const warnings: Warning[] = [];
  const stages: Stage[] = [];
  const globalArgs: ArgInstruction[] = [];
  for (const node of ast.children) {
    let ins: Instruction;
    try {
      ins = convertNode(node, warnings, true);
    } catch (err) {
      if (dockerfileErrorLine(err)) throw err;
      throw syntaxError(filename, node.range, (err as Error).message);
    }
    if (stages.length === 0 && ins.kind === 'arg') {
      globalArgs.push(ins);
      continue;
    }
    if (ins.kind === 'from') {
      stages.push({ index: stages.length, name: ins.name, from: ins, instructions: [], range: { ...ins.range } });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) throw syntaxError(filename, node.range, 'no build stage in current context');
    stage.instructions.push(ins);
    stage.range.end = ins.range.end;
  }
  if (stages.length === 0) {
    const last = ast.children[ast.children.length - 1];
    throw syntaxError(filename, last ? last.range : { start: 1, end: 1 }, 'dockerfile contains no stages to build');
  }
  warnings.push(...lintStages(stages, globalArgs, ast, options));
  warnings.sort((a, b) => a.range.start - b.range.start);
  return { stages, globalArgs, warnings };
}

/** Plain Errors thrown here become `Dockerfile:LINE: message` in toInstructions(). */
function convertNode(node: InstructionNode, warnings: Warning[], topLevel: boolean): Instruction {
  const base: InstructionBase = {
    range: { ...node.range },
    keywordRaw: node.keywordRaw,
    original: node.original,
    comments: [...node.comments],
  };
  const flags = (spec: Record<string, FlagKind>): ParsedFlags =>
    parseFlags(
      node.flags.map((f) => f.raw),
      spec,
    );
  const warn = (w: Warning): void => {
    if (topLevel) warnings.push(w);
  };
  const args = node.args;
  const kw = node.keyword;
  if (!isInstructionName(kw)) {
    throw new Error(`unknown instruction: ${node.keywordRaw}${suggestion(node.keywordRaw, INSTRUCTION_NAMES, false)}`);
  }
  switch (kw) {
    case 'from': {
      let name: string | undefined;
      let nameRaw: string | undefined;
      if (args.length === 3 && args[1]!.toLowerCase() === 'as') {
        nameRaw = args[2]!;
        name = nameRaw.toLowerCase();
        if (!/^[a-z][a-z0-9-_.]*$/.test(name)) {
          throw new Error(`invalid name for build stage: ${goQuote(nameRaw)}, name can't start with a number or contain symbols`);
        }
      } else if (args.length !== 1) {
        throw new Error('FROM requires either one or three arguments');
      }
      const f = flags({ platform: 'string' });
      if (nameRaw !== undefined && nameRaw !== name) {
        warn(ruleWarning('StageNameCasing', `Stage name '${nameRaw}' should be lowercase`, node.range));
      }
      if (args.length === 3 && !fromAsCasingMatches(node.keywordRaw, args[1]!)) {
        warn(ruleWarning('FromAsCasing', `'${args[1]}' and '${node.keywordRaw}' keywords' casing do not match`, node.range));
      }
      return { ...base, kind: 'from', image: args[0]!, platform: f.string('platform'), name, nameRaw };
    }
    case 'run': {
      const f = flags({ mount: 'strings', network: 'string', security: 'string', device: 'strings' });
      const command = commandLine(node);
      let ssh = 0;
      const mountFlags = f.strings('mount');
      const mounts: Mount[] = mountFlags.map((raw) => {
        const m = parseMount(raw, undefined, ssh);
        if (m.type === 'ssh') ssh++;
        return m;
      });
      const network = f.string('network');
      if (network !== undefined && network !== 'default' && network !== 'none' && network !== 'host') {
        throw new Error(`unsupported network mode ${goQuote(network)}`);
      }
      const security = f.string('security');
      if (security !== undefined && security !== 'sandbox' && security !== 'insecure') {
        throw new Error(`unsupported security mode ${goQuote(security)}`);
      }
      const heredocs = node.heredocs.map((h) => ({ ...h }));
      const heredocPlan = command.form === 'shell' ? runHeredocPlan(command.text, heredocs) : undefined;
      return {
        ...base,
        kind: 'run',
        command,
        mounts,
        mountFlags,
        network,
        security,
        devices: f.strings('device'),
        heredocs,
        ...(heredocPlan ? { heredocPlan } : {}),
        flagsUsed: f.used,
      };
    }
    case 'cmd':
    case 'entrypoint': {
      flags({});
      return { ...base, kind: kw, command: commandLine(node) };
    }
    case 'copy':
    case 'add': {
      const name = kw.toUpperCase();
      if (args.length < 2) {
        throw new Error(`${name} requires at least two arguments, but only one was provided. Destination could not be determined`);
      }
      const f =
        kw === 'copy'
          ? flags({ chown: 'string', from: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'strings' })
          : flags({
              chown: 'string',
              chmod: 'string',
              link: 'bool',
              'keep-git-dir': 'bool',
              checksum: 'string',
              exclude: 'strings',
              unpack: 'bool',
            });
      const { sources, dest, heredocs } = sourcesAndDest(node, name);
      const common = {
        ...base,
        sources,
        dest,
        heredocs,
        chown: f.string('chown'),
        chmod: f.string('chmod'),
        link: f.bool('link') ?? false,
        exclude: f.strings('exclude'),
      };
      if (kw === 'copy') {
        if (f.string('from')?.includes('$')) {
          throw new Error('variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround');
        }
        return { ...common, kind: 'copy', from: f.string('from'), parents: f.bool('parents') ?? false };
      }
      return {
        ...common,
        kind: 'add',
        keepGitDir: f.bool('keep-git-dir'),
        checksum: f.string('checksum'),
        unpack: f.bool('unpack'),
      };
    }
    case 'env':
    case 'label': {
      flags({});
      const name = kw.toUpperCase();
      if (args.length === 0) throw new Error(`${name} requires at least one argument`);
      if (args.length % 2 !== 0) throw new Error(`Bad input to ${name}, too many arguments`);
      const pairs: KeyValue[] = [];
      for (let j = 0; j < args.length; j += 2) {
        if (args[j] === '') throw new Error(`${name} names can not be blank`);
        pairs.push({ key: args[j]!, value: args[j + 1]!, legacy: node.legacyKeyValue === true });
      }
      if (node.legacyKeyValue) {
        const c = node.keywordRaw;
        warn(ruleWarning('LegacyKeyValueFormat', `"${c} key=value" should be used instead of legacy "${c} key value" format`, node.range));
      }
      if (kw === 'env') {
        for (const p of pairs) secretCheck('ENV', p.key, node, warn);
        return { ...base, kind: 'env', pairs };
      }
      return { ...base, kind: 'label', pairs };
    }
    case 'arg': {
      // BuildKit's parseArg does not look at flags.
      if (args.length === 0) throw new Error('ARG requires at least one argument');
      const decls = args.map((a) => {
        const eq = a.indexOf('=');
        const decl = eq < 0 ? { name: a } : { name: a.slice(0, eq), default: a.slice(eq + 1) };
        if (decl.name === '') throw new Error('ARG names can not be blank');
        return decl;
      });
      for (const d of decls) secretCheck('ARG', d.name, node, warn);
      return { ...base, kind: 'arg', args: decls };
    }
    case 'expose': {
      if (args.length === 0) throw new Error('EXPOSE requires at least one argument');
      flags({});
      return { ...base, kind: 'expose', ports: [...args].sort(byteOrder) };
    }
    case 'healthcheck':
      return { ...base, kind: 'healthcheck', health: healthConfig(node, flags) };
    case 'maintainer': {
      if (args.length !== 1) throw new Error('MAINTAINER requires exactly one argument');
      flags({});
      warn(ruleWarning('MaintainerDeprecated', 'Maintainer instruction is deprecated in favor of using label', node.range));
      return { ...base, kind: 'maintainer', maintainer: args[0]! };
    }
    case 'onbuild': {
      if (args.length === 0 || !node.inner) throw new Error('ONBUILD requires at least one argument');
      flags({});
      const trigger = trimSpace(args[0]!).toUpperCase();
      if (trigger === 'ONBUILD') throw new Error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (trigger === 'MAINTAINER' || trigger === 'FROM') throw new Error(`${trigger} isn't allowed as an ONBUILD trigger`);
      let expression = node.original.replace(/^[\t\n\f\r ]*onbuild[\t\n\f\r ]*/i, '');
      for (const h of node.heredocs) expression += '\n' + h.content + h.name;
      let instruction: Instruction | undefined;
      try {
        instruction = convertNode({ ...node.inner, range: node.range }, warnings, false);
      } catch {
        instruction = undefined;
      }
      return { ...base, kind: 'onbuild', expression, ...(instruction ? { instruction } : {}) };
    }
    case 'shell': {
      flags({});
      if (args.length === 0) throw new Error('SHELL requires at least one argument');
      if (!node.json) throw new Error('SHELL requires the arguments to be in JSON form');
      return { ...base, kind: 'shell', shell: [...args] };
    }
    case 'stopsignal':
    case 'user':
    case 'workdir': {
      if (args.length !== 1) throw new Error(`${kw.toUpperCase()} requires exactly one argument`);
      if (kw !== 'stopsignal') flags({}); // BuildKit's parseStopSignal does not look at flags
      if (kw === 'stopsignal') return { ...base, kind: 'stopsignal', signal: args[0]! };
      if (kw === 'user') return { ...base, kind: 'user', user: args[0]! };
      return { ...base, kind: 'workdir', path: args[0]! };
    }
    case 'volume': {
      if (args.length === 0) throw new Error('VOLUME requires at least one argument');
      flags({});
      const volumes = args.map((v) => {
        const t = trimSpace(v);
        if (t === '') throw new Error('VOLUME specified can not be an empty string');
        return t;
      });
      return { ...base, kind: 'volume', volumes };
    }
  }
}

/** Go `sort.Strings` order (bytewise; same as code units for the ASCII port specs). */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function commandLine(node: InstructionNode): CommandLine {
  if (node.json) return { form: 'exec', args: [...node.args] };
  return { form: 'shell', text: node.args.join(' ') };
}

/** BuildKit `doesFromCaseMatchAsCase`: only judged when FROM itself is all-lower or all-upper. */
function fromAsCasingMatches(from: string, as: string): boolean {
  const lower = from.toLowerCase() === from;
  const upper = from.toUpperCase() === from;
  if (!lower && !upper) return true;
  return lower ? as.toLowerCase() === as : as.toUpperCase() === as;
}

const SECRET_DENY = /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const SECRET_ALLOW = /(?:_|^)(?:public)(?:_|$)/i;

function secretCheck(instruction: 'ARG' | 'ENV', key: string, node: InstructionNode, warn: (w: Warning) => void): void {
  if (SECRET_DENY.test(key) && !SECRET_ALLOW.test(key)) {
    warn(
      ruleWarning(
        'SecretsUsedInArgOrEnv',
        `Do not use ARG or ENV instructions for sensitive data (${instruction} ${goQuote(key)})`,
        node.range,
      ),
    );
  }
}

/** BuildKit `parseSourcesAndDest`: heredoc words become inline files, the last word is the dest. */
function sourcesAndDest(node: InstructionNode, name: string): { sources: string[]; dest: string; heredocs: SourceContent[] } {
  const words = node.args;
  const dest = words[words.length - 1]!;
  if (safeHeredoc(dest)) throw new Error(`${name} cannot accept a heredoc as a destination`);
  const byName = new Map(node.heredocs.map((h) => [h.name, h]));
  const sources: string[] = [];
  const heredocs: SourceContent[] = [];
  for (const src of words.slice(0, -1)) {
    const h = safeHeredoc(src);
    if (h) {
      const content = byName.get(h.name)?.content ?? '';
      heredocs.push({ path: h.name, data: h.chomp ? chompHeredoc(content) : content, expand: h.expand });
    } else {
      sources.push(src);
    }
  }
  return { sources, dest, heredocs };
}

function safeHeredoc(word: string): ReturnType<typeof parseHeredocWord> {
  try {
    return parseHeredocWord(word);
  } catch {
    return undefined;
  }
}

const MIN_DURATION_NS = 1e6;

/** BuildKit `parseHealthcheck`; durations in ns, 0 = unset (dockerd applies defaults). */
function healthConfig(node: InstructionNode, flags: (spec: Record<string, FlagKind>) => ParsedFlags) {
  const args = node.args;
  if (args.length === 0) throw new Error('HEALTHCHECK requires at least one argument');
  let typ = args[0]!.toUpperCase();
  const rest = args.slice(1);
  if (typ === 'NONE') {
    if (rest.length !== 0) throw new Error('HEALTHCHECK NONE takes no arguments');
    return { test: ['NONE'], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 };
  }
  const f = flags({ interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' });
  if (typ !== 'CMD') throw new Error(`Unknown type ${goQuote(typ)} in HEALTHCHECK (try CMD)`);
  const cmd = node.json ? rest : rest.length === 0 ? [] : [rest.join(' ')];
  if (cmd.length === 0) throw new Error('Missing command after HEALTHCHECK CMD');
  if (!node.json) typ = 'CMD-SHELL';
  const interval = (name: string): number => {
    const s = f.string(name) ?? '';
    if (s === '') return 0;
    const d = parseGoDuration(s);
    if (d === 0) return 0;
    if (d < MIN_DURATION_NS) throw new Error(`Interval ${goQuote(name)} cannot be less than 1ms`);
    return d;
  };
  let retries = 0;
  const r = f.string('retries') ?? '';
  if (r !== '') {
    if (!/^[+-]?[0-9]+$/.test(r)) throw new Error(`strconv.ParseInt: parsing ${goQuote(r)}: invalid syntax`);
    retries = Number(r);
    if (retries > 2147483647 || retries < -2147483648) throw new Error(`strconv.ParseInt: parsing ${goQuote(r)}: value out of range`);
    if (retries < 1) throw new Error(`--retries must be at least 1 (not ${retries})`);
  }
  return {
    test: [typ, ...cmd],
    interval: interval('interval'),
    timeout: interval('timeout'),
    startPeriod: interval('start-period'),
    startInterval: interval('start-interval'),
    retries,
  };
}
