import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { createVolume } from '@strata/volume';
import { action, collect, type CommandContext, type CommandResult, type Io } from '../runner';

interface CreateFlags {
  label: string[];
  driver?: string;
  opt: string[];
}

/** `KEY=VALUE` / `KEY` list → map (Docker's --label). */
export function keyValues(list: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const i = l.indexOf('=');
    const k = i < 0 ? l : l.slice(0, i);
    if (!k) throw new StrataError('USAGE', `invalid ${what} "${l}": KEY[=VALUE]`);
    out[k] = i < 0 ? '' : l.slice(i + 1);
  }
  return out;
}

export async function run(ctx: CommandContext, name: string | undefined, o: CreateFlags): Promise<CommandResult> {
  if (o.driver !== undefined && o.driver !== 'local') throw new StrataError('UNSUPPORTED', `volume driver "${o.driver}": only local exists here`);
  const v = createVolume(ctx.globals.root, { name, labels: keyValues(o.label, 'label'), options: keyValues(o.opt, 'driver option'), anonymous: false, now: ctx.now() });
  return { kind: 'text', text: v.name };
}

export function register(volume: Command, io: Io): void {
  volume
    .command('create')
    .description('create a volume (a random name when none is given); an existing one is kept')
    .argument('[name]', 'volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)')
    .option('--label <key=value>', 'set a label (repeatable)', collect, [])
    .option('-d, --driver <name>', 'volume driver (only local)')
    .option('-o, --opt <key=value>', 'driver option (the local driver here takes none)', collect, [])
    .action(action(io, (ctx, name: string | undefined, o: CreateFlags) => run(ctx, name, o)));
}
