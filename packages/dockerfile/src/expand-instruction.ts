import { createLexer } from './lexer';
import { parseMount } from './mount';
import { syntaxError } from './syntax-error';
import type { Env, Instruction, Lexer } from './types';

export interface ExpandInstructionOptions {
  /** The file's escape token (`ast.escape`). */
  escape?: '\\' | '`';
  /** For error messages. Default `Dockerfile`. */
  filename?: string;
}

export interface ExpandedInstruction<T extends Instruction> {
  instruction: T;
  /** Variables referenced but not set (for UndefinedVar-style reporting). */
  unmatched: Set<string>;
}

/**
 * Expand an instruction's words the way BuildKit does at dispatch (`Expand`/`ExpandRaw`),
 * with `env` = the stage's env at that point (base image Env + PATH default, ENV so far, ARGs
 * with values). Returns a copy; the input is not changed. RUN/CMD/ENTRYPOINT/SHELL/
 * HEALTHCHECK/MAINTAINER/ONBUILD come back unchanged except RUN `--mount` values.
 * FROM expects `env` = the global ARGs (+ automatic platform ARGs).
 * Throws StrataError DOCKERFILE_SYNTAX `Dockerfile:LINE: failed to process "…": …`.
 */
export function expandInstruction<T extends Instruction>(
  ins: T,
  env: Env,
  options: ExpandInstructionOptions = {},
): ExpandedInstruction<T> {
  const lex = createLexer({ escape: options.escape ?? '\\' });
  const unmatched = new Set<string>();
  const word = (w: string): string => processWord(lex, w, env, unmatched);
  try {
    return { instruction: expandKind(ins, env, word, lex, unmatched) as T, unmatched };
  } catch (err) {
    throw syntaxError(options.filename ?? 'Dockerfile', ins.range, (err as Error).message);
  }
}

function processWord(lex: Lexer, w: string, env: Env, unmatched: Set<string>): string {
  const r = lex.processWordWithMatches(w, env);
  for (const u of r.unmatched) unmatched.add(u);
  return r.result;
}

function expandKind(ins: Instruction, env: Env, word: (w: string) => string, lex: Lexer, unmatched: Set<string>): Instruction {
  const opt = (w: string | undefined): string | undefined => (w === undefined ? undefined : word(w));
  switch (ins.kind) {
    case 'copy':
    case 'add': {
      // Heredoc bodies: a separate lexer, `\` escapes, quotes literal (BuildKit ExpandRaw).
      const raw = createLexer({ escape: '\\', skipProcessQuotes: true });
      const heredocs = ins.heredocs.map((h) => (h.expand ? { ...h, data: raw.processWord(h.data, env) } : { ...h }));
      const common = {
        ...ins,
        sources: ins.sources.map(word),
        dest: word(ins.dest),
        heredocs,
        chown: opt(ins.chown),
        chmod: opt(ins.chmod),
        exclude: [...ins.exclude],
      };
      if (ins.kind === 'add') return { ...common, kind: 'add', checksum: opt(ins.checksum) } as Instruction;
      return common as Instruction;
    }
    case 'env':
    case 'label':
      // Every pair sees the env from before the instruction.
      return { ...ins, pairs: ins.pairs.map((p) => ({ ...p, key: word(p.key), value: word(p.value) })) };
    case 'arg':
      return { ...ins, args: ins.args.map((a) => (a.default === undefined ? { ...a } : { ...a, default: word(a.default) })) };
    case 'expose':
      return {
        ...ins,
        ports: ins.ports.flatMap((p) => {
          const r = lex.processWordsWithMatches(p, env);
          for (const u of r.unmatched) unmatched.add(u);
          return r.words;
        }),
      };
    case 'from':
      return { ...ins, image: word(ins.image), platform: opt(ins.platform) };
    case 'stopsignal':
      return { ...ins, signal: word(ins.signal) };
    case 'user':
      return { ...ins, user: word(ins.user) };
    case 'workdir':
      return { ...ins, path: word(ins.path) };
    case 'volume': {
      const volumes = ins.volumes.map(word);
      if (volumes.some((v) => v === '')) throw new Error('VOLUME specified can not be an empty string');
      return { ...ins, volumes };
    }
    case 'run': {
      let ssh = 0;
      const mounts = ins.mountFlags.map((raw) => {
        const m = parseMount(raw, word, ssh);
        if (m.type === 'ssh') ssh++;
        return m;
      });
      return { ...ins, mounts };
    }
    default:
      return { ...ins };
  }
}
