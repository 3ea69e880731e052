import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StrataError } from '@strata/errors';
import { bridgeConfig, ensureNetwork, run, runDirOf, type BridgeNetwork, type NetworkOptions } from './bridge';
import { runPlugin, type CniResult } from './cni';
import type { PortBinding } from './publish';

/** What a container on the bridge got. */
export interface NetworkAttachment {
  /** The network namespace the container joins (`/run/netns/strata-…`). */
  netns: string;
  network: string;
  bridge: string;
  ip: string;
  prefixLen: number;
  gateway: string;
  mac: string;
  ports: PortBinding[];
}

/**
 * `RUN_DIR/net/<container id>.json`: written **before** the namespace exists and updated as each
 * step completes, so whoever finds it later (the container's `stop`, `rm`, or the crash recovery
 * of the next strata command) can undo exactly what was done.
 */
interface TeardownRecord {
  id: string;
  netnsName: string;
  netns: string;
  network: BridgeNetwork;
  ports: PortBinding[];
  bridgeConfig: Record<string, unknown>;
  /** The bridge plugin's ADD result (portmap's prevResult on DEL too). */
  result?: CniResult;
  attachment?: NetworkAttachment;
}

function recordFile(runDir: string, id: string): string {
  return join(runDir, 'net', `${id}.json`);
}

function writeRecord(runDir: string, r: TeardownRecord): void {
  mkdirSync(join(runDir, 'net'), { recursive: true });
  const file = recordFile(runDir, r.id);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(r));
  renameSync(tmp, file);
}

function readRecord(runDir: string, id: string): TeardownRecord | undefined {
  try {
    return JSON.parse(readFileSync(recordFile(runDir, id), 'utf8')) as TeardownRecord;
  } catch {
    return undefined;
  }
}

/** Container IDs that have a network teardown record (attached, or left by a crash). */
export function attachedIds(o: NetworkOptions = {}): string[] {
  const dir = join(runDirOf(o), 'net');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5));
}

/** The attachment of a container, when it is attached. */
export function attachmentOf(id: string, o: NetworkOptions = {}): NetworkAttachment | undefined {
  return readRecord(runDirOf(o), id)?.attachment;
}

function portmapConfig(r: TeardownRecord): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name: r.network.name,
    type: 'portmap',
    capabilities: { portMappings: true },
    // SNAT of 127.0.0.1 and of the bridge's own subnet: clients on loopback (with route_localnet,
    // which portmap sets on the bridge) and containers reaching a published port (hairpin).
    snat: true,
    runtimeConfig: {
      portMappings: r.ports.map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol, ...(p.hostIp ? { hostIP: p.hostIp } : {}) })),
    },
    ...(r.result ? { prevResult: r.result } : {}),
  };
}

const macOf = (res: CniResult) => res.interfaces?.find((i) => i.name === 'eth0' && i.sandbox)?.mac ?? '';

/**
 * Put a container on the bridge: a named network namespace (`ip netns add`), the `bridge` plugin
 * (veth into the bridge, an address from `host-local`, default route, masquerading) beside the
 * `loopback` plugin, then `portmap` for the published ports (already reserved by the caller).
 * The teardown record is written first; a failure part-way tears down what was done.
 */
export async function attach(id: string, ports: readonly PortBinding[], o: NetworkOptions = {}): Promise<NetworkAttachment> {
  const runDir = runDirOf(o);
  const network = await ensureNetwork(o);
  const netnsName = `strata-${id.slice(0, 24)}`;
  const rec: TeardownRecord = { id, netnsName, netns: `/run/netns/${netnsName}`, network, ports: [...ports], bridgeConfig: bridgeConfig(network, runDir) };
  writeRecord(runDir, rec);
  try {
    await run('ip', ['netns', 'add', netnsName]);
    const [result] = await Promise.all([
      runPlugin({ plugin: 'bridge', command: 'ADD', containerId: id, netns: rec.netns, ifname: 'eth0', config: rec.bridgeConfig, env: o.env }),
      runPlugin({ plugin: 'loopback', command: 'ADD', containerId: id, netns: rec.netns, ifname: 'lo', config: { cniVersion: '1.0.0', name: `${network.name}-lo`, type: 'loopback' }, env: o.env }),
    ]);
    if (!result?.ips?.length) throw new StrataError('NETWORK_SETUP', 'the bridge plugin gave the container no address');
    rec.result = result;
    writeRecord(runDir, rec);
    if (rec.ports.length) await runPlugin({ plugin: 'portmap', command: 'ADD', containerId: id, netns: rec.netns, ifname: 'eth0', config: portmapConfig(rec), env: o.env });
    const [ip, prefix] = result.ips[0].address.split('/');
    rec.attachment = {
      netns: rec.netns,
      network: network.name,
      bridge: network.bridge,
      ip,
      prefixLen: Number(prefix),
      gateway: result.ips[0].gateway ?? network.gateway,
      mac: macOf(result),
      ports: rec.ports,
    };
    writeRecord(runDir, rec);
    return rec.attachment;
  } catch (err) {
    await detach(id, o).catch(() => {});
    throw err;
  }
}

/**
 * Undo `attach` (from its teardown record; nothing to do without one): portmap and bridge DEL
 * together (the bridge plugin removes the veth, the lease and the masquerading rule while the
 * namespace still exists), then the namespace. Safe to repeat. On failure the record stays, for
 * the next try.
 */
export async function detach(id: string, o: NetworkOptions = {}): Promise<void> {
  const runDir = runDirOf(o);
  const rec = readRecord(runDir, id);
  if (!rec) return;
  const netnsThere = existsSync(rec.netns);
  const netns = netnsThere ? rec.netns : '';
  const dels: Array<Promise<unknown>> = [
    runPlugin({ plugin: 'bridge', command: 'DEL', containerId: id, netns, ifname: 'eth0', config: rec.bridgeConfig, env: o.env }),
  ];
  if (rec.ports.length) dels.push(runPlugin({ plugin: 'portmap', command: 'DEL', containerId: id, netns, ifname: 'eth0', config: portmapConfig(rec), env: o.env }));
  const results = await Promise.allSettled(dels);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  // The namespace stays until the plugins are done with it: without it, a later bridge DEL could
  // no longer find the address whose masquerading rule it must remove.
  if (failed) throw failed.reason;
  if (netnsThere) await run('ip', ['netns', 'del', rec.netnsName]);
  rmSync(recordFile(runDir, id), { force: true });
}
