/**
 * The public data model of @strata/dockerfile: parse(text) → AST (ParseResult) →
 * toInstructions(ast) → typed instructions grouped into stages (InstructionsResult).
 *
 * Stability: names here are a contract with the builder. Fields are added, never renamed.
 *
 * Everything is *unexpanded*: words keep their `$VAR` text exactly as written. Expansion
 * happens in the builder at dispatch time with the stage's ARG/ENV in scope, using
 * `createLexer()` / `expand()` and the per-instruction metadata in `INSTRUCTION_INFO`
 * (BuildKit does the same: instructions are parsed once, expanded while converting).
 */

/** 1-based, inclusive line numbers in the original file (heredoc bodies included). */
export interface LineRange {
  start: number;
  end: number;
}

/** The 18 instructions, lowercase. */
export type InstructionName =
  | 'add'
  | 'arg'
  | 'cmd'
  | 'copy'
  | 'entrypoint'
  | 'env'
  | 'expose'
  | 'from'
  | 'healthcheck'
  | 'label'
  | 'maintainer'
  | 'onbuild'
  | 'run'
  | 'shell'
  | 'stopsignal'
  | 'user'
  | 'volume'
  | 'workdir';

// ---------------------------------------------------------------------------
// Parser directives

/**
 * `# check=skip=A,B;error=true` (keys case-insensitive, values case-sensitive), read as BuildKit
 * reads it: past a `#!` first line, the value up to its first space.
 */
export interface CheckDirective {
  /** Rule names to skip (as written). */
  skip: string[];
  /** `skip=all`. */
  skipAll: boolean;
  /** `error=true`: warnings should fail the build. */
  error: boolean;
  /** `experimental=A,B` / `experimental=all` (enables experimental rules). */
  experimental: string[];
  experimentalAll: boolean;
}

export interface Directive {
  /** Lowercased key: `syntax`, `escape` or `check`. */
  name: 'syntax' | 'escape' | 'check';
  value: string;
  line: number;
}

export interface Directives {
  /**
   * The frontend asked for, as BuildKit's `DetectSyntax` finds it (`# syntax=`, past a `#!` first
   * line, else `// syntax=`, else a JSON `"syntax"`), up to its first space. Recorded, not acted upon.
   */
  syntax?: string;
  /** The escape token: `\` (default) or `` ` `` (`# escape=\``). */
  escape: '\\' | '`';
  check?: CheckDirective;
  /** Every directive the parser recognised, in file order (none after a `#!` line). */
  list: Directive[];
}

// ---------------------------------------------------------------------------
// AST

/**
 * One here-document (BuildKit `parser.Heredoc`).
 * `content` is the body exactly as read: every line with its trailing `\n`,
 * leading tabs NOT yet stripped (apply `chompHeredoc()` when `chomp`).
 */
export interface Heredoc {
  /** Delimiter word with quotes removed (`<<"EOF"` → `EOF`). For COPY/ADD it is the file name. */
  name: string;
  /** `3<<EOF` → 3; 0 when not given. */
  fileDescriptor: number;
  /** False when any part of the delimiter was quoted (`<<'EOF'`, `<<"EOF"`, `<<E"O"F`). */
  expand: boolean;
  /** `<<-EOF`: leading tabs are stripped from body lines (and the terminator may be tab-indented). */
  chomp: boolean;
  content: string;
}

/** A `--name[=value]` flag as written before the instruction's arguments. */
export interface Flag {
  /** Without the leading `--`, e.g. `mount`. */
  name: string;
  /** Undefined for a bare `--link`; `''` for `--chown=`. */
  value?: string;
  /** As written, e.g. `--mount=type=cache,target=/x`. */
  raw: string;
}

/** One logical instruction line (continuations joined, comments inside dropped). */
export interface InstructionNode {
  /** Lowercased keyword, e.g. `copy` (may be an unknown word: toInstructions() rejects it). */
  keyword: string;
  /** The keyword as written, e.g. `Copy` (for ConsistentInstructionCasing). */
  keywordRaw: string;
  flags: Flag[];
  /**
   * Arguments split the way BuildKit's parser splits this instruction
   * (JSON array elements for exec form; whitespace words; ENV/LABEL key/value pairs as
   * alternating entries; the whole rest as one string for RUN/CMD/… shell form).
   */
  args: string[];
  /** True when `args` came from a JSON array (exec form). */
  json: boolean;
  /** Everything after the keyword and flags, continuations joined (no heredoc bodies). */
  rest: string;
  /** The logical line as BuildKit's `Node.Original` (keyword + flags + rest, joined). */
  original: string;
  heredocs: Heredoc[];
  /** For ONBUILD: the wrapped instruction. */
  inner?: InstructionNode;
  /** ENV/LABEL written in the legacy `KEY value` form (one pair, no `=`). */
  legacyKeyValue?: boolean;
  /** Comment lines directly above (without `#`, trimmed), BuildKit `PrevComment`. */
  comments: string[];
  range: LineRange;
}

export interface Ast {
  children: InstructionNode[];
  escape: '\\' | '`';
}

export interface ParseResult {
  ast: Ast;
  directives: Directives;
  /** Parser-level findings (NoEmptyContinuation, …). */
  warnings: Warning[];
}

export interface ParseOptions {
  /** Used in error messages: `<filename>:LINE: message`. Default `Dockerfile`. */
  filename?: string;
}

// ---------------------------------------------------------------------------
// Warnings (build checks) — data, never thrown

export type RuleName =
  | 'StageNameCasing'
  | 'FromAsCasing'
  | 'NoEmptyContinuation'
  | 'ConsistentInstructionCasing'
  | 'DuplicateStageName'
  | 'ReservedStageName'
  | 'JSONArgsRecommended'
  | 'MaintainerDeprecated'
  | 'UndefinedArgInFrom'
  | 'WorkdirRelativePath'
  | 'UndefinedVar'
  | 'MultipleInstructionsDisallowed'
  | 'LegacyKeyValueFormat'
  | 'ExposeProtoCasing'
  | 'ExposeInvalidFormat'
  | 'SecretsUsedInArgOrEnv'
  | 'InvalidDefaultArgInFrom'
  | 'RedundantTargetPlatform'
  | 'FromPlatformFlagConstDisallowed';

export interface Warning {
  rule: RuleName;
  /** The detail message, worded as BuildKit words it. */
  message: string;
  /** The rule's one-line description (BuildKit `LinterRule.Description`). */
  description: string;
  /** `https://docs.docker.com/go/dockerfile/rule/<kebab-name>/` */
  url: string;
  range: LineRange;
}

// ---------------------------------------------------------------------------
// Typed instructions

/** RUN/CMD/ENTRYPOINT/HEALTHCHECK CMD command: shell form text or exec form argv. */
export type CommandLine =
  | { form: 'shell'; text: string }
  | { form: 'exec'; args: string[] };

export interface InstructionBase {
  range: LineRange;
  /** Keyword as written (`Copy`). */
  keywordRaw: string;
  /** The logical line (BuildKit `Original`), e.g. for history `created_by`. */
  original: string;
  /** Comment lines directly above. */
  comments: string[];
}

export interface FromInstruction extends InstructionBase {
  kind: 'from';
  /** Image reference as written (may contain `$ARG`, expanded with global ARGs only). */
  image: string;
  /** `--platform=` value as written (may contain `$BUILDPLATFORM`). */
  platform?: string;
  /** `AS name`, lowercase-normalised (as BuildKit). */
  name?: string;
  /** `AS name` as written. */
  nameRaw?: string;
}

/** A `RUN --mount` with BuildKit's defaults applied. Values are unexpanded unless parsed with an expander. */
export interface Mount {
  type: 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
  /** `target`/`dst`/`destination`. For secret defaults to `/run/secrets/<id>` (unless `env` is set); ssh `/run/buildkit/ssh_agent.<n>`. */
  target?: string;
  /** `source`/`src`. */
  source?: string;
  /** `from=` stage name, image or context. */
  from?: string;
  /** Bind/secret/ssh default true; cache/tmpfs default false. */
  readonly: boolean;
  /** cache: defaults to target. secret: source, else id, else basename(target). ssh: `default`. */
  id?: string;
  /** cache only: default `shared`. */
  sharing?: 'shared' | 'private' | 'locked';
  /** Octal. cache 0o755, secret 0o400, ssh 0o600 by default; undefined for bind/tmpfs. */
  mode?: number;
  /** cache/secret/ssh: default 0. */
  uid?: number;
  gid?: number;
  /** tmpfs `size=` in bytes (units like 64m accepted). */
  size?: number;
  /** secret/ssh `required`. */
  required: boolean;
  /** secret `env=NAME`. */
  env?: string;
  /** The flag value as written. */
  raw: string;
}

export type NetworkMode = 'default' | 'none' | 'host';
export type SecurityMode = 'sandbox' | 'insecure';

export interface RunInstruction extends InstructionBase {
  kind: 'run';
  command: CommandLine;
  /** Mounts parsed without expansion (validated, defaults applied). Re-parse `mountFlags` with `parseMount(raw, expander)` at dispatch. */
  mounts: Mount[];
  /** Raw `--mount` values in order. */
  mountFlags: string[];
  network?: NetworkMode;
  security?: SecurityMode;
  /** `--device` values (labs). */
  devices: string[];
  heredocs: Heredoc[];
  /**
   * How the heredocs turn into the command (BuildKit `dispatchRun`), see `runHeredocPlan()`.
   * Precomputed for linux targets.
   */
  heredocPlan?: RunHeredocPlan;
  /** Flag names used, e.g. ['mount','network'] (BuildKit `FlagsUsed`). */
  flagsUsed: string[];
}

/**
 * BuildKit RUN heredoc semantics:
 * - `script`: the shell-form text is only `<<EOF`: the body (chomped if `<<-`) is run as the
 *   shell command string (`/bin/sh -c "<body>"`).
 * - `file`: same, but the body starts with `#!`: the body is written to a 0755 file
 *   `/dev/pipes/<name>` (read-only mount) and that path is the (shell-form) command.
 * - `shell`: heredocs are stdin etc. of a command on the line: the text becomes
 *   `text + "\n" + body + name` for each heredoc, in order, run by the shell.
 */
export type RunHeredocPlan =
  | { kind: 'script'; script: string }
  | { kind: 'file'; name: string; path: string; data: string; mode: number }
  | { kind: 'shell'; text: string };

export interface CmdInstruction extends InstructionBase {
  kind: 'cmd';
  command: CommandLine;
}

export interface EntrypointInstruction extends InstructionBase {
  kind: 'entrypoint';
  command: CommandLine;
}

/** A heredoc used as a COPY/ADD source: an inline file. */
export interface SourceContent {
  /** File name (the heredoc delimiter). */
  path: string;
  /** Body, already chomped for `<<-`. */
  data: string;
  /** Expand `$VAR` in `data` at dispatch (lexer with `skipProcessQuotes`). */
  expand: boolean;
}

export interface CopyInstruction extends InstructionBase {
  kind: 'copy';
  /** Source words (paths/globs), unexpanded; heredoc sources are in `heredocs`. */
  sources: string[];
  dest: string;
  /** Inline-file sources (`COPY <<EOF dest`), in order. */
  heredocs: SourceContent[];
  from?: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  parents: boolean;
  exclude: string[];
}

export interface AddInstruction extends InstructionBase {
  kind: 'add';
  sources: string[];
  dest: string;
  heredocs: SourceContent[];
  chown?: string;
  chmod?: string;
  link: boolean;
  exclude: string[];
  /** `--keep-git-dir[=bool]`; undefined when not given. */
  keepGitDir?: boolean;
  checksum?: string;
  /** `--unpack[=bool]`; undefined when not given (default: local archives unpack, remote don't). */
  unpack?: boolean;
}

export interface KeyValue {
  key: string;
  value: string;
  /** True for the legacy `ENV k v` / `LABEL k v` form (LegacyKeyValueFormat). */
  legacy: boolean;
}

export interface EnvInstruction extends InstructionBase {
  kind: 'env';
  /** Keys and values unexpanded; quotes still in place (expansion removes them), as BuildKit. */
  pairs: KeyValue[];
}

export interface LabelInstruction extends InstructionBase {
  kind: 'label';
  pairs: KeyValue[];
}

export interface ArgDecl {
  name: string;
  /** Unexpanded default; undefined when `ARG name` has no `=`. */
  default?: string;
}

export interface ArgInstruction extends InstructionBase {
  kind: 'arg';
  args: ArgDecl[];
}

export interface ExposeInstruction extends InstructionBase {
  kind: 'expose';
  /** Words as written, e.g. `80/tcp`, `$PORT`. */
  ports: string[];
}

export interface UserInstruction extends InstructionBase {
  kind: 'user';
  user: string;
}

export interface WorkdirInstruction extends InstructionBase {
  kind: 'workdir';
  path: string;
}

export interface VolumeInstruction extends InstructionBase {
  kind: 'volume';
  volumes: string[];
}

export interface StopsignalInstruction extends InstructionBase {
  kind: 'stopsignal';
  signal: string;
}

export interface ShellInstruction extends InstructionBase {
  kind: 'shell';
  shell: string[];
}

export interface MaintainerInstruction extends InstructionBase {
  kind: 'maintainer';
  maintainer: string;
}

/** Docker's `HealthConfig`: durations in nanoseconds; 0 means "not set / inherit default". */
export interface HealthConfig {
  /** `['NONE']`, `['CMD', ...argv]` (exec form) or `['CMD-SHELL', text]`. */
  test: string[];
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
}

export interface HealthcheckInstruction extends InstructionBase {
  kind: 'healthcheck';
  health: HealthConfig;
}

export interface OnbuildInstruction extends InstructionBase {
  kind: 'onbuild';
  /** The trigger text as stored in the image config `OnBuild` (e.g. `COPY . /app`). */
  expression: string;
  /**
   * The trigger, parsed (never onbuild/from/maintainer). Undefined when the trigger does not
   * parse: BuildKit only stores the text and fails in the child build, so do we.
   */
  instruction?: Instruction;
}

export type Instruction =
  | AddInstruction
  | ArgInstruction
  | CmdInstruction
  | CopyInstruction
  | EntrypointInstruction
  | EnvInstruction
  | ExposeInstruction
  | FromInstruction
  | HealthcheckInstruction
  | LabelInstruction
  | MaintainerInstruction
  | OnbuildInstruction
  | RunInstruction
  | ShellInstruction
  | StopsignalInstruction
  | UserInstruction
  | VolumeInstruction
  | WorkdirInstruction;

export type InstructionKind = Instruction['kind'];

/** A build stage: its FROM and the instructions up to the next FROM. */
export interface Stage {
  /** 0-based position. */
  index: number;
  /** Lowercased `AS` name. */
  name?: string;
  from: FromInstruction;
  /** Instructions after FROM (FROM itself excluded). */
  instructions: Instruction[];
  range: LineRange;
}

export interface InstructionsResult {
  stages: Stage[];
  /** ARGs before the first FROM (usable in FROM lines; re-declare inside a stage to use there). */
  globalArgs: ArgInstruction[];
  /** Build-check warnings (ParseResult warnings are NOT repeated here; see `lint()`). */
  warnings: Warning[];
}

export interface ToInstructionsOptions {
  filename?: string;
  /** Build args given on the command line (`--build-arg`): count as defined for UndefinedVar/UndefinedArgInFrom. */
  buildArgs?: Record<string, string>;
  /**
   * Env of an external base image, for UndefinedVar. Return undefined when unknown:
   * UndefinedVar is then not reported in stages built on that image (it cannot know).
   * `scratch` has an empty env.
   */
  baseImageEnv?: (image: string) => Record<string, string> | undefined;
}

// ---------------------------------------------------------------------------
// Variable expansion (BuildKit shell lexer)

/** Variables in scope. Lookups are case-sensitive (linux). */
export type Env = Readonly<Record<string, string>> | ReadonlyMap<string, string>;

export interface LexerOptions {
  /** Escape token (`\` default, or `` ` `` from the `escape` directive). */
  escape?: '\\' | '`';
  /** Keep quote characters in the output (used to find heredoc words). */
  rawQuotes?: boolean;
  /** Keep escape characters in the output. */
  rawEscapes?: boolean;
  /** Quotes are ordinary characters (heredoc bodies); escapes still apply. */
  skipProcessQuotes?: boolean;
  /** Leave `$VAR` of unset variables as written instead of expanding to `''`. */
  skipUnsetEnv?: boolean;
}

export interface ProcessWordResult {
  result: string;
  /** Variables referenced and found in env. */
  matched: Set<string>;
  /** Variables referenced but not set. */
  unmatched: Set<string>;
}

export interface ProcessWordsResult {
  words: string[];
  matched: Set<string>;
  unmatched: Set<string>;
}

/** BuildKit `shell.Lex`. Errors are plain StrataError(DOCKERFILE_SYNTAX) without line: callers add it. */
export interface Lexer {
  /** Expand one word: quotes removed, no word splitting (ENV values, WORKDIR, COPY sources …). */
  processWord(word: string, env: Env): string;
  /** Expand and split into words on unquoted whitespace (as BuildKit for several-word instructions). */
  processWords(word: string, env: Env): string[];
  processWordWithMatches(word: string, env: Env): ProcessWordResult;
  processWordsWithMatches(word: string, env: Env): ProcessWordsResult;
}

/** Per-instruction facts the builder needs. */
export interface InstructionInfo {
  /** Variables in arguments are expanded at dispatch (BuildKit `SupportsSingleWordExpansion`). */
  expands: boolean;
  /** Heredocs allowed (ADD, COPY, RUN). */
  heredocs: boolean;
  /** Changes only the image config (no layer). */
  metadataOnly: boolean;
  /** Allowed flag names. */
  flags: readonly string[];
}
