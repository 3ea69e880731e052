import type { Command } from 'commander';
import { listContainers, ownerAlive, recoverContainers, type ContainerRecord } from '@strata/cow';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';
import { humanAgo } from '../table';

function status(c: ContainerRecord): string {
  if (c.state === 'running') return `Up ${humanAgo(new Date(c.startedAt ?? c.created)).replace(/ ago$/, '')}`;
  if (c.state === 'exited') return `Exited (${c.exitCode ?? 0}) ${humanAgo(new Date(c.finishedAt ?? c.created))}`;
  return 'Created';
}

export function containerRecord(c: ContainerRecord): Record<string, unknown> {
  return {
    ID: c.id,
    Names: c.name,
    Image: c.imageRef ?? c.image,
    ImageID: c.image,
    Command: c.config.args.join(' '),
    CreatedAt: c.created,
    State: c.state,
    Status: status(c),
    ExitCode: c.state === 'exited' ? c.exitCode ?? 0 : null,
    Pid: c.state === 'running' && ownerAlive(c.owner) ? c.owner!.pid : null,
    Network: c.config.network,
  };
}

export async function run(ctx: CommandContext, o: { all?: boolean; quiet?: boolean; noTrunc?: boolean }): Promise<CommandResult> {
  await recoverContainers(ctx.globals.root);
  const list = listContainers(ctx.globals.root).filter((c) => o.all || c.state === 'running');
  const records = list.map(containerRecord);
  if (o.quiet || ctx.globals.quiet) return { kind: 'text', text: records.map((r) => (o.noTrunc ? r.ID : String(r.ID).slice(0, 12))).join('\n') };
  const trunc = (s: string, n: number) => (o.noTrunc || s.length <= n ? s : `${s.slice(0, n - 1)}…`);
  return {
    kind: 'records',
    records,
    columns: [
      { header: 'CONTAINER ID', field: (r) => (o.noTrunc ? r.ID : String(r.ID).slice(0, 12)) },
      { header: 'IMAGE', field: 'Image' },
      { header: 'COMMAND', field: (r) => JSON.stringify(trunc(String(r.Command), 20)) },
      { header: 'CREATED', field: (r) => humanAgo(new Date(String(r.CreatedAt))) },
      { header: 'STATUS', field: 'Status' },
      { header: 'NAMES', field: 'Names' },
    ],
  };
}

export function register(container: Command, io: Io): void {
  container
    .command('ls')
    .alias('ps')
    .description('list containers (running ones unless -a)')
    .option('-a, --all', 'show all containers (created, running, exited)')
    .option('-q, --quiet', 'only IDs')
    .option('--no-trunc', "don't truncate")
    .action(action(io, (ctx, o: { all?: boolean; quiet?: boolean; trunc?: boolean }) => run(ctx, { ...o, noTrunc: o.trunc === false })));
}
