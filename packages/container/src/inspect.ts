import { ownerAlive, writableLayer } from '@strata/cow';
import { StrataError } from '@strata/errors';
import { formatBinding, portKey, type PortBinding } from '@strata/network';
import { findVolume } from '@strata/volume';
import { logPath } from './logs';
import { findContainer, type ContainerRecord } from './records';

const ZERO_TIME = '0001-01-01T00:00:00Z';

function portMap(rec: ContainerRecord): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
  const out: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const e of rec.config.exposed ?? []) out[e] = null;
  for (const p of rec.network?.ports ?? []) (out[portKey(p)] ??= []).push({ HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) });
  return out;
}

function portBindings(rec: ContainerRecord): Record<string, Array<{ HostIp: string; HostPort: string }>> {
  const out: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of rec.config.publish ?? []) (out[portKey(p)] ??= []).push({ HostIp: p.hostIp, HostPort: p.hostPort ? String(p.hostPort) : '' });
  return out;
}

/** Docker-shaped `container inspect` JSON (the fields strata has). */
export function inspectContainer(root: string, c: ContainerRecord): Record<string, unknown> {
  const running = c.state === 'running' && ownerAlive(c.owner);
  let graph: Record<string, unknown> = {};
  try {
    const w = writableLayer(root, c.id);
    graph = { Name: w.mode === 'copy' ? 'vfs' : 'overlay2', Data: w.mode === 'copy' ? { Dir: w.upperdir } : { LowerDir: w.lowerdirs.join(':'), UpperDir: w.upperdir, WorkDir: w.workdir } };
  } catch {
    // a container being removed
  }
  const mounts = c.config.mounts ?? [];
  const sec = c.config.security ?? {};
  const res = c.config.resources ?? {};
  const net = c.network;
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
      StartedAt: c.startedAt ?? ZERO_TIME,
      FinishedAt: c.finishedAt ?? ZERO_TIME,
    },
    Image: c.image,
    LogPath: logPath(root, c.id),
    Name: `/${c.name}`,
    Driver: graph.Name ?? 'overlay2',
    HostConfig: {
      Binds: mounts.filter((m) => m.type !== 'tmpfs' && !(m.type === 'volume' && m.anonymous)).map((m) => `${(m as { source: string }).source}:${m.target}${m.readonly ? ':ro' : ''}`),
      NetworkMode: c.config.network === 'bridge' ? 'default' : c.config.network,
      PortBindings: portBindings(c),
      AutoRemove: !!c.autoRemove,
      VolumesFrom: c.config.volumesFrom ?? null,
      CapAdd: sec.capAdd ?? null,
      CapDrop: sec.capDrop ?? null,
      Privileged: !!sec.privileged,
      PublishAllPorts: false,
      ReadonlyRootfs: !!c.config.readonlyRootfs,
      SecurityOpt: c.config.securityOpt ?? null,
      Tmpfs: Object.fromEntries(mounts.filter((m) => m.type === 'tmpfs').map((m) => [m.target, [m.size ? `size=${m.size}` : '', m.mode !== undefined ? `mode=${m.mode.toString(8)}` : ''].filter(Boolean).join(',')])),
      Runtime: c.config.runtime ?? 'runc',
      Memory: res.memory ?? 0,
      MemorySwap: res.memorySwap ?? (res.memory ? res.memory * 2 : 0),
      NanoCpus: res.cpus ? Math.round(res.cpus * 1e9) : 0,
      PidsLimit: res.pidsLimit ?? null,
    },
    GraphDriver: graph,
    Mounts: mounts
      .filter((m) => m.type !== 'tmpfs')
      .map((m) =>
        m.type === 'volume'
          ? { Type: 'volume', Name: m.source, Source: findVolume(root, m.source)?.mountpoint ?? '', Destination: m.target, Driver: 'local', Mode: m.readonly ? 'ro' : '', RW: !m.readonly, Propagation: '' }
          : { Type: 'bind', Source: (m as { source: string }).source, Destination: m.target, Mode: m.readonly ? 'ro' : '', RW: !m.readonly, Propagation: 'rprivate' },
      ),
    Config: {
      Hostname: c.config.hostname,
      User: c.config.user,
      Tty: c.config.tty,
      OpenStdin: c.config.openStdin,
      ExposedPorts: c.config.exposed?.length ? Object.fromEntries(c.config.exposed.map((e) => [e, {}])) : undefined,
      Env: c.config.env,
      Cmd: c.config.cmd ?? null,
      Image: c.imageRef ?? c.image,
      Volumes: mounts.some((m) => m.type === 'volume' && m.anonymous) ? Object.fromEntries(mounts.filter((m) => m.type === 'volume' && m.anonymous).map((m) => [m.target, {}])) : null,
      WorkingDir: c.config.cwd,
      Entrypoint: c.config.entrypoint?.length ? c.config.entrypoint : null,
    },
    NetworkSettings: {
      Ports: portMap(c),
      SandboxKey: net?.netns ?? '',
      Gateway: net?.gateway ?? '',
      IPAddress: net?.ip ?? '',
      IPPrefixLen: net?.prefixLen ?? 0,
      MacAddress: net?.mac ?? '',
    },
  };
}

/**
 * Docker's `port`: the container's published ports (`80/tcp -> 0.0.0.0:18080`), or, given
 * `PORT[/PROTO]`, the host addresses of that one (`0.0.0.0:18080`). Empty when not running.
 */
export function containerPorts(root: string, ref: string, which?: string): string[] {
  const rec = findContainer(root, ref);
  const ports: PortBinding[] = rec.state === 'running' ? rec.network?.ports ?? [] : [];
  if (which === undefined) return ports.map(formatBinding);
  const [p, proto = 'tcp'] = which.split('/');
  if (!/^\d+$/.test(p) || (proto !== 'tcp' && proto !== 'udp')) throw new StrataError('USAGE', `invalid port "${which}": PORT[/tcp|/udp]`);
  const hits = ports.filter((b) => b.containerPort === Number(p) && b.protocol === proto);
  if (!hits.length) throw new StrataError('NOT_FOUND', `No public port '${p}/${proto}' published for ${rec.name}`);
  return hits.map((b) => `${b.hostIp || '0.0.0.0'}:${b.hostPort}`);
}
