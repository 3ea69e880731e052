import { Command, CommanderError, Option } from 'commander';
import { crashedContainers } from '@strata/container/crash-check';
import type { Io } from './runner';
import { reportError } from './runner';
import { setHostEnv } from '@strata/host-tools';
export const VERSION = '0.1.0';

/** The noun commands; each command group adds its verbs to them. */
export interface Nouns {
  program: Command;
  image: Command;
  layer: Command;
  context: Command;
  container: Command;
  volume: Command;
  store: Command;
  system: Command;
  build: Command;
}

/** The program with the given command groups registered (`loadGroups`). */
export function createProgram(io: Io, groups: readonly Registrar[], opts: { shortVerbose?: boolean } = {}): Command {
  const program = new Command('strata')
    .description('daemonless, composable container image toolkit')
    .version(VERSION, '--version')
    .option('--root <dir>', 'store root (default: $STRATA_ROOT, $XDG_DATA_HOME/strata, ~/.local/share/strata)')
    .addOption(new Option('--format <format>', 'output format: table or json (JSON Lines for lists)').default(undefined))
    .option('-q, --quiet', 'only print IDs / essential output')
    .option('--no-color', 'no colours in output')
    // `container run|create|rm` take -v themselves (volumes, as Docker): then only --verbose is ours.
    .option(opts.shortVerbose === false ? '--verbose' : '-v, --verbose', 'more detail on stderr')
    .enablePositionalOptions(false)
    .showHelpAfterError(false)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(s.replace(/^error: /, 'strata: ')),
    })
    .exitOverride();

  const noun = (name: string, description: string) => program.command(name).description(description);
  const nouns: Nouns = {
    program,
    image: noun('image', 'manage images'),
    layer: noun('layer', 'inspect, diff, create and apply layers'),
    context: noun('context', 'show what a build would send'),
    container: noun('container', 'run and manage containers'),
    volume: noun('volume', 'manage volumes'),
    store: noun('store', 'check and maintain the local store'),
    system: noun('system', 'disk usage and pruning, as `docker system`'),
    build: program, // `strata build …` is a top-level verb; `build prune|du` hang off it
  };
  for (const register of groups) register(nouns, io);
  return program;
}

type Registrar = (nouns: Nouns, io: Io) => void;

// Each command group, loaded on demand: a command's modules (and the node built-ins they use)
// are only evaluated when the command line can reach them. Registered in this order (it is the
// order of `--help`).
const GROUPS = {
  image: async () => (await import('./commands/image')).registerImageCommands,
  store: async () => (await import('./commands/store')).registerStoreCommands,
  layer: async () => (await import('./commands/layer')).registerLayerCommands,
  context: async () => (await import('./commands/context')).registerContextCommands,
  build: async () => (await import('./commands/build')).registerBuildCommands,
  container: async () => (await import('./commands/container')).registerContainerCommands,
  volume: async () => (await import('./commands/volume')).registerVolumeCommands,
  imageIo: async () => (await import('./commands/image-io')).registerImageIoCommands,
  inspect: async () => (await import('./commands/inspect')).registerInspectCommands,
  system: async () => (await import('./commands/system')).registerSystemCommands,
  registry: async () => (await import('./commands/registry')).registerRegistryCommands,
} satisfies Record<string, () => Promise<Registrar>>;
type Group = keyof typeof GROUPS;
const ALL_GROUPS = Object.keys(GROUPS) as Group[];

/** The groups that add commands under each top-level word (`layer` adds `image export|cat|files`). */
export const GROUPS_OF_WORD: Record<string, Group[]> = {
  image: ['image', 'layer', 'imageIo', 'inspect', 'registry'],
  layer: ['layer'],
  store: ['store'],
  system: ['system'],
  context: ['context'],
  build: ['build'],
  container: ['container'],
  volume: ['volume'],
  pull: ['registry'],
  push: ['registry'],
  login: ['registry'],
  logout: ['registry'],
};

/**
 * Under a word that several groups add to, the group of each verb: `image ls` loads the one group
 * that defines it, not all five under `image` (start-up is most of such a command). A verb not
 * listed loads the word's groups; a test checks the list against the full program.
 */
export const GROUPS_OF_VERB: Record<string, Record<string, Group[]>> = {
  image: {
    ls: ['image'], tag: ['image'], rm: ['image'], prune: ['image'],
    export: ['layer'], cat: ['layer'], files: ['layer'],
    load: ['imageIo'], save: ['imageIo'], import: ['imageIo'],
    inspect: ['inspect'], history: ['inspect'], efficiency: ['inspect'], report: ['inspect'], browse: ['inspect'],
    pull: ['registry'], push: ['registry'], tags: ['registry'], digest: ['registry'], copy: ['registry'],
  },
};

// Global options that take a value (the word after them is not the command).
export const GLOBAL_WITH_VALUE = new Set(['--root', '--format']);

/** The command groups a command line needs: those of its first word (or of its verb), none for `--version`, or all (help, typos). */
export function groupsFor(argv: readonly string[]): Group[] {
  let word: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (GLOBAL_WITH_VALUE.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    if (word === undefined) {
      word = a;
      if (!GROUPS_OF_VERB[a]) break;
      continue;
    }
    return GROUPS_OF_VERB[word][a] ?? GROUPS_OF_WORD[word];
  }
  if (word !== undefined) return GROUPS_OF_WORD[word] ?? ALL_GROUPS;
  // `strata --version` alone needs no command (scripts call it to check for strata)
  return argv.includes('--version') && !argv.some((a) => a === '--help' || a === '-h') ? [] : ALL_GROUPS;
}

/** Verbs of `container` that take `-v` as Docker does (`run|create -v VOLUME`, `rm -v`). */
const VERBS_WITH_V = new Set(['run', 'create', 'rm']);

/**
 * Where the command line is `container run|create|rm …`, the index of that verb: a `-v` after it
 * is the verb's, one before it is still the global --verbose.
 */
export function verbTakingV(argv: readonly string[]): number | undefined {
  const words: number[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const a = argv[i];
    if (GLOBAL_WITH_VALUE.has(a)) {
      i++;
      continue;
    }
    if (!a.startsWith('-')) words.push(i);
  }
  return words.length === 2 && argv[words[0]] === 'container' && VERBS_WITH_V.has(argv[words[1]]) ? words[1] : undefined;
}

/** Load command groups (all of them by default). */
export async function loadGroups(groups: readonly Group[] = ALL_GROUPS): Promise<Registrar[]> {
  return Promise.all(groups.map((g) => GROUPS[g]()));
}

/** Parse and run; returns the exit code (commander usage errors map to 2). */
export async function runProgram(argv: string[], io: Io): Promise<number> {
  // Library code reads no process.env: the lookups of host tools (PATH, CNI_PATH, STRATA_RUNTIME,
  // STRATA_COW) get the environment this program was started with.
  setHostEnv(io.env);
  // A container whose strata was killed (kill -9, OOM) left its runtime, network and mounts behind:
  // every command tears that down first. The check is one readdir when nothing crashed.
  const verb = verbTakingV(argv);
  if (crashedContainers().length) {
    try {
      await (await import('@strata/container')).recoverHost();
    } catch (err) {
      // Not this command's business: said with -v only; the next command tries again.
      if (argv.includes('--verbose') || (verb === undefined && argv.includes('-v'))) {
        io.stderr.write(`strata: warning: cleaning up after a crashed container: ${(err as Error).message}\n`);
      }
    }
  }
  if (verb !== undefined) argv = argv.map((a, i) => (i < verb && a === '-v' ? '--verbose' : a));
  const program = createProgram(io, await loadGroups(groupsFor(argv)), { shortVerbose: verb === undefined });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    return reportError(err, io, false);
  }
}
