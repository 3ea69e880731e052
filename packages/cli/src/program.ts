import { Command, CommanderError, Option } from 'commander';
import type { Io } from './runner';
import { reportError } from './runner';
import { registerImageCommands } from './commands/image';
import { registerStoreCommands } from './commands/store';
import { registerLayerCommands } from './commands/layer';
import { registerContextCommands } from './commands/context';
import { registerBuildCommands } from './commands/build';
import { registerContainerCommands } from './commands/container';
import { registerImageIoCommands } from './commands/image-io';
import { registerInspectCommands } from './commands/inspect';

export const VERSION = '0.1.0';

/** The noun commands; each command group adds its verbs to them. */
export interface Nouns {
  program: Command;
  image: Command;
  layer: Command;
  context: Command;
  container: Command;
  store: Command;
  build: Command;
}

export function createProgram(io: Io): Command {
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
    build: program, // `strata build …` is a top-level verb; `build prune|du` hang off it
  };
  registerImageCommands(nouns, io);
  registerStoreCommands(nouns, io);
  registerLayerCommands(nouns, io);
  registerContextCommands(nouns, io);
  registerBuildCommands(nouns, io);
  registerContainerCommands(nouns, io);
  registerImageIoCommands(nouns, io);
  registerInspectCommands(nouns, io);
  return program;
}

/** Parse and run; returns the exit code (commander usage errors map to 2). */
export async function runProgram(argv: string[], io: Io): Promise<number> {
  const program = createProgram(io);
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
