import type { Command } from 'commander';
import { containerDir, findContainer, ownerAlive, readContainer, recoverContainers, writableLayer, type ContainerRecord } from '@strata/cow';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';

/** Docker-shaped inspect JSON (the fields strata has). */
export function inspectRecord(root: string, c: ContainerRecord): Record<string, unknown> {
  const running = c.state === 'running' && ownerAlive(c.owner);
  const w = writableLayer(root, c);
  return {
    Id: c.id,
    Created: c.created,
    Path: c.config.args[0],
    Args: c.config.args.slice(1),
    State: {
      Status: c.state,
      Running: running,
      ExitCode: c.exitCode ?? 0,
      Pid: running ? c.owner!.pid : 0,
      StartedAt: c.startedAt ?? '0001-01-01T00:00:00Z',
      FinishedAt: c.finishedAt ?? '0001-01-01T00:00:00Z',
    },
    Image: c.image,
    Name: `/${c.name}`,
    Driver: w.mode === 'copy' ? 'vfs' : 'overlay2',
    HostConfig: {
      NetworkMode: c.config.network,
      AutoRemove: !!c.autoRemove,
      ReadonlyRootfs: !!c.config.readonlyRootfs,
      Binds: (c.config.mounts ?? []).filter((m) => m.type === 'bind').map((m) => `${(m as { source: string }).source}:${m.target}${(m as { readonly?: boolean }).readonly ? ':ro' : ''}`),
      Runtime: c.config.runtime ?? 'runc',
    },
    GraphDriver: {
      Name: w.mode === 'copy' ? 'vfs' : 'overlay',
      Data: w.mode === 'copy' ? { Dir: w.upperdir } : { LowerDir: w.lowerdirs.join(':'), UpperDir: w.upperdir, WorkDir: w.workdir },
    },
    Config: {
      Hostname: c.config.hostname,
      User: c.config.user,
      Tty: c.config.tty,
      OpenStdin: c.config.openStdin,
      Env: c.config.env,
      Cmd: c.config.cmd ?? null,
      Entrypoint: c.config.entrypoint?.length ? c.config.entrypoint : null,
      WorkingDir: c.config.cwd,
      Image: c.imageRef ?? c.image,
    },
    LogPath: `${containerDir(root, c.id)}/container-log.jsonl`,
  };
}

export async function runInspect(ctx: CommandContext, refs: string[]): Promise<CommandResult> {
  await recoverContainers(ctx.globals.root);
  return { kind: 'json', value: refs.map((r) => inspectRecord(ctx.globals.root, findContainer(ctx.globals.root, r))) };
}

/** Docker's `wait`: block until each container stops; print its exit code. */
export async function runWait(ctx: CommandContext, refs: string[]): Promise<CommandResult> {
  const root = ctx.globals.root;
  const codes: number[] = [];
  for (const ref of refs) {
    const id = findContainer(root, ref).id;
    for (;;) {
      const rec = readContainer(root, id);
      if (!rec || rec.state !== 'running') {
        codes.push(rec?.exitCode ?? 0);
        break;
      }
      if (!ownerAlive(rec.owner)) await recoverContainers(root);
      else await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { kind: 'text', text: codes.join('\n') };
}

export function register(container: Command, io: Io): void {
  container
    .command('inspect')
    .description('low-level information on containers (Docker-shaped JSON array)')
    .argument('<container...>', 'names or IDs')
    .action(action(io, (ctx, refs: string[]) => runInspect(ctx, refs)));
  container
    .command('wait')
    .description('wait until containers stop, then print their exit codes')
    .argument('<container...>', 'names or IDs')
    .action(action(io, (ctx, refs: string[]) => runWait(ctx, refs)));
}
