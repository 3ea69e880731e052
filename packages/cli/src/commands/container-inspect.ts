import type { Command } from 'commander';
import { containerPorts, findContainer, inspectContainer, recover } from '@strata/container';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';

export async function runInspect(ctx: CommandContext, refs: string[]): Promise<CommandResult> {
  await recover(ctx.globals.root);
  return { kind: 'json', value: refs.map((r) => inspectContainer(ctx.globals.root, findContainer(ctx.globals.root, r))) };
}

/** Docker's `port`: `80/tcp -> 0.0.0.0:18080` lines, or the host addresses of one port. */
export async function runPort(ctx: CommandContext, ref: string, port?: string): Promise<CommandResult> {
  await recover(ctx.globals.root);
  return { kind: 'text', text: containerPorts(ctx.globals.root, ref, port).join('\n') };
}

export function register(container: Command, io: Io): void {
  container
    .command('inspect')
    .description('low-level information on containers (Docker-shaped JSON array)')
    .argument('<container...>', 'names or IDs')
    .action(action(io, (ctx, refs: string[]) => runInspect(ctx, refs)));
  container
    .command('port')
    .description("a running container's published ports (PORT[/PROTO]: the host addresses of that one)")
    .argument('<container>', 'name or ID')
    .argument('[port]', 'PORT[/tcp|/udp]')
    .action(action(io, (ctx, ref: string, port: string | undefined) => runPort(ctx, ref, port)));
}
