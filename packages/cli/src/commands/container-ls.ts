import type { Command } from 'commander';
import { ownerAlive } from '@strata/cow';
import { listContainers, recover, type ContainerRecord } from '@strata/container';
import { StrataError } from '@strata/errors';
import { action, collect, type CommandContext, type CommandResult, type Io } from '../runner';
import { humanAgo } from '../table';

function status(c: ContainerRecord, now: Date): string {
  if (c.state === 'running') return `Up ${humanAgo(new Date(c.startedAt ?? c.created), now).replace(/ ago$/, '')}`;
  if (c.state === 'exited') return `Exited (${c.exitCode ?? 0}) ${humanAgo(new Date(c.finishedAt ?? c.created), now)}`;
  return 'Created';
}

export function containerRecord(c: ContainerRecord, now: Date): Record<string, unknown> {
  return {
    ID: c.id,
    Names: c.name,
    Image: c.imageRef ?? c.image,
    ImageID: c.image,
    Command: c.config.args.join(' '),
    CreatedAt: c.created,
    State: c.state,
    Status: status(c, now),
    ExitCode: c.state === 'exited' ? c.exitCode ?? 0 : null,
    Pid: c.state === 'running' && ownerAlive(c.owner) ? c.owner!.pid : null,
    Network: c.config.network,
    // Docker's PORTS column: 0.0.0.0:18080->80/tcp
    Ports: (c.state === 'running' ? c.network?.ports ?? [] : []).map((p) => `${p.hostIp || '0.0.0.0'}:${p.hostPort}->${p.containerPort}/${p.protocol}`).join(', '),
  };
}

/** Docker's `ps --filter`: status=, name= (substring), id= (prefix), exited= (code), ancestor= (image ref or ID); same key ORs, different keys AND. */
function filterFn(filters: string[]): (c: ContainerRecord) => boolean {
  const byKey = new Map<string, string[]>();
  for (const f of filters) {
    const i = f.indexOf('=');
    const k = i < 0 ? '' : f.slice(0, i);
    if (!['status', 'name', 'id', 'exited', 'ancestor'].includes(k)) {
      throw new StrataError('USAGE', `invalid filter "${f}": use status=, name=, id=, exited= or ancestor=`);
    }
    byKey.set(k, [...(byKey.get(k) ?? []), f.slice(i + 1)]);
  }
  const test: Record<string, (c: ContainerRecord, v: string) => boolean> = {
    status: (c, v) => c.state === v,
    name: (c, v) => c.name.includes(v),
    id: (c, v) => c.id.startsWith(v),
    exited: (c, v) => c.state === 'exited' && String(c.exitCode ?? 0) === v,
    ancestor: (c, v) => c.imageRef === v || c.image === v || (c.image ?? '').replace('sha256:', '').startsWith(v.replace('sha256:', '')),
  };
  return (c) => [...byKey].every(([k, vs]) => vs.some((v) => test[k](c, v)));
}

export async function run(ctx: CommandContext, o: { all?: boolean; quiet?: boolean; noTrunc?: boolean; filter?: string[] }): Promise<CommandResult> {
  await recover(ctx.globals.root);
  const filters = o.filter ?? [];
  const keep = filterFn(filters);
  // Like Docker, a status filter looks at all containers.
  const all = o.all || filters.some((f) => f.startsWith('status=') || f.startsWith('exited='));
  const list = listContainers(ctx.globals.root).filter((c) => (all || c.state === 'running') && keep(c));
  const now = ctx.now();
  const records = list.map((c) => containerRecord(c, now));
  if (o.quiet || ctx.globals.quiet) return { kind: 'text', text: records.map((r) => (o.noTrunc ? r.ID : String(r.ID).slice(0, 12))).join('\n') };
  const trunc = (s: string, n: number) => (o.noTrunc || s.length <= n ? s : `${s.slice(0, n - 1)}…`);
  return {
    kind: 'records',
    records,
    columns: [
      { header: 'CONTAINER ID', field: (r) => (o.noTrunc ? r.ID : String(r.ID).slice(0, 12)) },
      { header: 'IMAGE', field: 'Image' },
      { header: 'COMMAND', field: (r) => JSON.stringify(trunc(String(r.Command), 20)) },
      { header: 'CREATED', field: (r) => humanAgo(new Date(String(r.CreatedAt)), now) },
      { header: 'STATUS', field: 'Status' },
      { header: 'PORTS', field: 'Ports' },
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
    .option('-f, --filter <key=value>', 'status=created|running|exited, name=, id=, exited=CODE, ancestor=IMAGE (repeatable)', collect, [])
    .action(action(io, (ctx, o: { all?: boolean; quiet?: boolean; trunc?: boolean; filter?: string[] }) => run(ctx, { ...o, noTrunc: o.trunc === false })));
}
