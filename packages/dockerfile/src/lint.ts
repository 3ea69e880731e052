import { closest } from './go-text';
import { createLexer } from './lexer';
import { parseMount } from './mount';
import { isValidImageReference } from './reference-check';
import { ruleWarning } from './rules';
import type { ArgInstruction, Ast, Instruction, Lexer, Stage, ToInstructionsOptions, Warning } from './types';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const AUTOMATIC_ARGS = [
  'BUILDPLATFORM', 'BUILDOS', 'BUILDOSVERSION', 'BUILDARCH', 'BUILDVARIANT',
  'TARGETPLATFORM', 'TARGETOS', 'TARGETOSVERSION', 'TARGETARCH', 'TARGETVARIANT', 'TARGETSTAGE',
];

interface StageScope {
  env: Map<string, string>;
  declared: Set<string>;
  workdirSet: boolean;
  shellSet: boolean;
  /** False when the base image's env is unknown: UndefinedVar cannot be judged. */
  known: boolean;
}

/**
 * The build checks that need stage structure and variable scope (BuildKit runs them while
 * converting to LLB): casing, stage names, FROM args, UndefinedVar, WORKDIR, EXPOSE,
 * repeated CMD/ENTRYPOINT/HEALTHCHECK, JSON args.
 */
export function lintStages(
  stages: readonly Stage[],
  globalArgs: readonly ArgInstruction[],
  ast: Ast,
  options: ToInstructionsOptions,
): Warning[] {
  const out: Warning[] = [];
  const lex = createLexer({ escape: ast.escape });
  const buildArgs = options.buildArgs ?? {};
  out.push(...casing(stages));

  // Global ARG values, in order (a default may use earlier ones).
  const globalEnv = new Map<string, string>();
  const globalNames = new Set<string>();
  for (const a of globalArgs) {
    for (const d of a.args) {
      globalNames.add(d.name);
      const v = buildArgs[d.name] ?? (d.default !== undefined ? tryExpand(lex, d.default, globalEnv) : undefined);
      if (v !== undefined) globalEnv.set(d.name, v);
    }
  }

  // The same, ignoring --build-arg (InvalidDefaultArgInFrom judges the defaults).
  const defaultsEnv = new Map<string, string>();
  for (const a of globalArgs) {
    for (const d of a.args) {
      if (d.default !== undefined) defaultsEnv.set(d.name, tryExpand(lex, d.default, defaultsEnv) ?? d.default);
    }
  }

  const seenNames = new Map<string, number>();
  const scopes: StageScope[] = [];
  for (const stage of stages) {
    const from = stage.from;
    // Stage names.
    if (stage.name !== undefined) {
      if (seenNames.has(stage.name)) {
        out.push(ruleWarning('DuplicateStageName', `Duplicate stage name ${JSON.stringify(stage.name)}, stage names should be unique`, from.range));
      }
      seenNames.set(stage.name, stage.index);
      if (stage.name === 'scratch' || stage.name === 'context') {
        out.push(ruleWarning('ReservedStageName', `Stage name should not use the same name as reserved stage ${JSON.stringify(stage.name)}`, from.range));
      }
    }
    // FROM: undeclared args, platform checks, empty default.
    const fromEnv = new Map(globalEnv);
    for (const a of AUTOMATIC_ARGS) if (!fromEnv.has(a)) fromEnv.set(a, '');
    const declaredForFrom = [...globalNames, ...AUTOMATIC_ARGS];
    for (const word of [from.image, from.platform ?? '']) {
      for (const name of unmatchedIn(lex, word, fromEnv)) {
        if (declaredForFrom.includes(name)) continue;
        const m = closest(name, declaredForFrom, true);
        out.push(ruleWarning('UndefinedArgInFrom', `FROM argument '${name}' is not declared${m ? ` (did you mean ${m}?)` : ''}`, from.range));
      }
    }
    const image = tryExpand(lex, from.image, globalEnv) ?? from.image;
    const withDefaults = tryExpand(lex, from.image, defaultsEnv);
    if (withDefaults !== undefined && !isValidImageReference(withDefaults)) {
      out.push(ruleWarning('InvalidDefaultArgInFrom', `Default value for ARG ${from.image} results in empty or invalid base image name`, from.range));
    }
    if (from.platform !== undefined) {
      if (from.platform === '$TARGETPLATFORM' || from.platform === '${TARGETPLATFORM}') {
        out.push(ruleWarning('RedundantTargetPlatform', `Setting platform to predefined ${from.platform} in FROM is redundant as this is the default behavior`, from.range));
      } else if (!from.platform.includes('$')) {
        const p = parsePlatform(from.platform);
        if (p && !(stage.name ?? '').includes(p.os) && !(stage.name ?? '').includes(p.arch)) {
          out.push(ruleWarning('FromPlatformFlagConstDisallowed', `FROM --platform flag should not use constant value ${JSON.stringify(from.platform)}`, from.range));
        }
      }
    }

    // The stage's scope: a parent stage's, scratch, or an external image's env.
    const parentIndex = seenNames.get(image.toLowerCase());
    const parent = parentIndex !== undefined && parentIndex < stage.index ? scopes[parentIndex] : undefined;
    let scope: StageScope;
    if (parent) {
      scope = { env: new Map(parent.env), declared: new Set(parent.declared), workdirSet: parent.workdirSet, shellSet: parent.shellSet, known: parent.known };
    } else {
      const baseEnv = image === 'scratch' ? {} : options.baseImageEnv?.(image);
      scope = { env: new Map(Object.entries(baseEnv ?? {})), declared: new Set(), workdirSet: false, shellSet: false, known: baseEnv !== undefined };
      if (!scope.env.has('PATH')) scope.env.set('PATH', DEFAULT_PATH);
    }
    scopes.push(scope);

    const repeated = new Map<string, Instruction>();
    for (const ins of stage.instructions) {
      out.push(...checkInstruction(ins, scope, lex, globalEnv, buildArgs));
      if (ins.kind === 'cmd' || ins.kind === 'entrypoint' || ins.kind === 'healthcheck') {
        const prev = repeated.get(ins.kind);
        if (prev) {
          out.push(ruleWarning('MultipleInstructionsDisallowed', `Multiple ${ins.keywordRaw} instructions should not be used in the same stage because only the last one will be used`, prev.range));
        }
        repeated.set(ins.kind, ins);
      }
    }
  }
  return out;
}

function checkInstruction(
  ins: Instruction,
  scope: StageScope,
  lex: Lexer,
  globalEnv: Map<string, string>,
  buildArgs: Record<string, string>,
): Warning[] {
  const out: Warning[] = [];
  const undefinedVars = (words: Array<string | undefined>, env: Map<string, string> = scope.env): void => {
    if (!scope.known) return;
    const reported = new Set<string>();
    for (const w of words) {
      if (w === undefined) continue;
      for (const name of unmatchedIn(lex, w, env)) {
        if (scope.declared.has(name) || reported.has(name)) continue;
        reported.add(name);
        const m = closest(name, [...env.keys()], true);
        out.push(ruleWarning('UndefinedVar', `Usage of undefined variable '$${name}'${m ? ` (did you mean $${m}?)` : ''}`, ins.range));
      }
    }
  };
  switch (ins.kind) {
    case 'arg':
      for (const d of ins.args) {
        if (d.default !== undefined) undefinedVars([d.default]);
        scope.declared.add(d.name);
        const v = buildArgs[d.name] ?? (d.default !== undefined ? tryExpand(lex, d.default, scope.env) : globalEnv.get(d.name));
        // An ARG with a value replaces an ENV of the same name for what follows (llb AddEnv).
        if (v !== undefined) scope.env.set(d.name, v);
      }
      break;
    case 'env': {
      const before = new Map(scope.env);
      undefinedVars(ins.pairs.flatMap((p) => [p.key, p.value]), before);
      for (const p of ins.pairs) {
        const k = tryExpand(lex, p.key, before) ?? p.key;
        scope.env.set(k, tryExpand(lex, p.value, before) ?? p.value);
      }
      break;
    }
    case 'label':
      undefinedVars(ins.pairs.flatMap((p) => [p.key, p.value]));
      break;
    case 'copy':
    case 'add': {
      const words = [...ins.sources, ins.dest, ins.chown, ins.chmod, ins.kind === 'add' ? ins.checksum : undefined];
      // Heredoc bodies are expanded by a separate raw lexer that BuildKit does not lint.
      undefinedVars(words);
      break;
    }
    case 'expose':
      undefinedVars(ins.ports);
      for (const word of ins.ports) {
        for (const port of tryExpandWords(lex, word, scope.env) ?? [word]) {
          if (port.includes(':')) {
            out.push(ruleWarning('ExposeInvalidFormat', `EXPOSE instruction should not define an IP address or host-port mapping, found '${port}'`, ins.range));
          }
          const proto = port.split('/')[1];
          if (proto !== undefined && proto !== proto.toLowerCase()) {
            out.push(ruleWarning('ExposeProtoCasing', `Defined protocol '${port}' in EXPOSE instruction should be lowercase`, ins.range));
          }
        }
      }
      break;
    case 'stopsignal':
      undefinedVars([ins.signal]);
      break;
    case 'user':
      undefinedVars([ins.user]);
      break;
    case 'volume':
      undefinedVars(ins.volumes);
      break;
    case 'workdir': {
      undefinedVars([ins.path]);
      const p = tryExpand(lex, ins.path, scope.env) ?? ins.path;
      if (!scope.workdirSet && !p.startsWith('/')) {
        out.push(ruleWarning('WorkdirRelativePath', `Relative workdir ${JSON.stringify(p)} can have unexpected results if the base image changes`, ins.range));
      }
      scope.workdirSet = true;
      break;
    }
    case 'run': {
      // Only the --mount values are expanded (and so checked) for RUN.
      const values: string[] = [];
      for (const raw of ins.mountFlags) {
        try {
          parseMount(raw, (w) => {
            values.push(w);
            return w;
          });
        } catch {
          // a malformed mount was reported by toInstructions already
        }
      }
      undefinedVars(values);
      break;
    }
    case 'shell':
      scope.shellSet = true;
      break;
    case 'cmd':
    case 'entrypoint':
      if (ins.command.form === 'shell' && !scope.shellSet) {
        out.push(ruleWarning('JSONArgsRecommended', `JSON arguments recommended for ${ins.keywordRaw} to prevent unintended behavior related to OS signals`, ins.range));
      }
      break;
    default:
      break;
  }
  return out;
}

/** ConsistentInstructionCasing: every FROM and stage instruction against the majority case. */
function casing(stages: readonly Stage[]): Warning[] {
  let lower = 0;
  let upper = 0;
  const all = stages.flatMap((s) => [s.from as Instruction, ...s.instructions]);
  for (const ins of all) {
    const k = ins.keywordRaw;
    if (k === k.toLowerCase()) lower++;
    else if (k === k.toUpperCase()) upper++;
  }
  const majorityLower = lower > upper;
  const out: Warning[] = [];
  for (const ins of all) {
    const k = ins.keywordRaw;
    const want = majorityLower ? (k !== k.toLowerCase() ? 'lowercase' : '') : k !== k.toUpperCase() ? 'uppercase' : '';
    if (want) out.push(ruleWarning('ConsistentInstructionCasing', `Command '${k}' should match the case of the command majority (${want})`, ins.range));
  }
  return out;
}

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm', i386: '386' };

/** containerd `platforms.Parse` for `os[/arch[/variant]]`, normalised; undefined when invalid. */
function parsePlatform(s: string): { os: string; arch: string } | undefined {
  const parts = s.toLowerCase().split('/');
  if (parts.length > 3 || parts.some((p) => !/^[a-z0-9_-]+$/.test(p))) return undefined;
  const os = parts[0] === 'macos' ? 'darwin' : parts[0]!;
  const arch = parts[1] ? (ARCH_ALIASES[parts[1]] ?? parts[1]) : 'amd64';
  return { os, arch };
}

function unmatchedIn(lex: Lexer, word: string, env: Map<string, string>): string[] {
  try {
    return [...lex.processWordWithMatches(word, env).unmatched];
  } catch {
    return [];
  }
}

function tryExpand(lex: Lexer, word: string, env: Map<string, string>): string | undefined {
  try {
    return lex.processWord(word, env);
  } catch {
    return undefined;
  }
}

function tryExpandWords(lex: Lexer, word: string, env: Map<string, string>): string[] | undefined {
  try {
    return lex.processWords(word, env);
  } catch {
    return undefined;
  }
}
