import { Command, CommanderError, Option } from 'commander';
import type { Io } from './runner';
import { reportError } from './runner';
export const VERSION = '0.1.0';

/** The noun commands; each command group adds its verbs to them. */
export interface Nouns {
  program: Command;
  image: Command;
  layer: Command;
  context: Command;
  container: Command;
  store: Command;
  system: Command;
  build: Command;
}

/** The program with the given command groups registered (`loadGroups`). */
export function createProgram(io: Io, groups: readonly Registrar[]): Command {
  const program = new Command('strata')
    .description('daemonless, composable container image toolkit')
    .version(VERSION, '--version')
    .option('--root <dir>', 'store root (default: $STRATA_ROOT, $XDG_DATA_HOME/strata, ~/.local/share/strata)')
    .addOption(new Option('--format <format>', 'output format: table or json (JSON Lines for lists)').default(undefined))
    .option('-q, --quiet', 'only print IDs / essential output')
    .option('--no-color', 'no colours in output')
    .option('-v, --verbose', 'more detail on stderr')
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
  pull: ['registry'],
  push: ['registry'],
  login: ['registry'],
  logout: ['registry'],
};

// Global options that take a value (the word after them is not the command).
export const GLOBAL_WITH_VALUE = new Set(['--root', '--format']);

/** The command groups a command line needs: those of its first word, or all (help, typos). */
export function groupsFor(argv: readonly string[]): Group[] {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (GLOBAL_WITH_VALUE.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return GROUPS_OF_WORD[a] ?? ALL_GROUPS;
  }
  return ALL_GROUPS;
}

/** Load command groups (all of them by default). */
export async function loadGroups(groups: readonly Group[] = ALL_GROUPS): Promise<Registrar[]> {
  return Promise.all(groups.map((g) => GROUPS[g]()));
}

/** Parse and run; returns the exit code (commander usage errors map to 2). */
export async function runProgram(argv: string[], io: Io): Promise<number> {
  const program = createProgram(io, await loadGroups(groupsFor(argv)));
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
