import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StrataError } from '@strata/errors';
import { processStartTime } from '@strata/cas/process';
import { findCniPlugin } from '@strata/host-tools';
import { bridgeConfig, ensureNetwork, ipamConfig, run, runDirOf, withLock, type BridgeNetwork, type NetworkOptions } from './bridge';
import { runPlugin, type CniResult } from './cni';
import { addPortRules, forgetUdpFlows, portRules, removePortRules } from './port-rules';
import { allocatePorts, sameHostPort } from './ports';
import type { PortBinding, PortSpec } from './publish';

/** A process, by pid and kernel start time (a reused pid is not mistaken for it). */
export interface ProcessRef {
  pid: number;
  start: string;
}

const alive = (p: ProcessRef) => {
  const s = processStartTime(p.pid);
  return s !== undefined && (p.start === '' || s === p.start);
};

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
  /**
   * The DNAT rules of the ports (port-rules.ts), written before they are added. A record without
   * this field but with ports comes from a strata that published through the portmap plugin:
   * its ports go with portmap's DEL.
   */
  portRules?: string[];
  /** host-local's config (the lease is released with it). */
  ipamConfig?: Record<string, unknown>;
  bridgeConfig: Record<string, unknown>;
  /** The container's address as host-local gave it: portmap's prevResult. */
  result?: CniResult;
  attachment?: NetworkAttachment;
  /** The process tearing this down now (a cleanup process the container's owner handed it to). */
  teardownOwner?: ProcessRef;
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

/**
 * Hand the teardown of a container's network to another process (its cleanup process): from now
 * on `detach` in any other process leaves it alone while that process lives, and a start that
 * wants one of its ports waits for it.
 */
export function handOff(id: string, to: ProcessRef, o: NetworkOptions = {}): void {
  const runDir = runDirOf(o);
  const rec = readRecord(runDir, id);
  if (rec) writeRecord(runDir, { ...rec, teardownOwner: to });
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

/** The portmap plugin's config for the DEL of a record an older strata wrote (see `portRules`). */
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
 * Put a container on the bridge. The address comes first, from `host-local` (its lease files and
 * lock make concurrent starts safe without a daemon), together with the named network namespace
 * (`ip netns add`); then, all at once: the `bridge` plugin (veth into the bridge, the address
 * given through the `static` IPAM plugin, default route, hairpin), `loopback`, and the published
 * ports' DNAT rules (one `iptables-restore` transaction, see port-rules.ts). The bridge gets
 * `route_localnet` (127.0.0.1 clients) once it exists. The teardown record is written first; a
 * failure part-way tears down what was done.
 */
export async function attach(id: string, specs: readonly PortSpec[], o: NetworkOptions = {}): Promise<NetworkAttachment> {
  const runDir = runDirOf(o);
  const network = await ensureNetwork(o);
  findCniPlugin('static', o.env); // the bridge plugin runs it: a clear error now rather than its own later
  const netnsName = `strata-${id.slice(0, 24)}`;
  const ipam = ipamConfig(network, runDir);
  const rec: TeardownRecord = { id, netnsName, netns: `/run/netns/${netnsName}`, network, ports: [], portRules: [], ipamConfig: ipam, bridgeConfig: bridgeConfig(network, runDir) };
  // The ports are checked against the other containers' records and written in this one under
  // the lock, so two starts never take the same port. A port a container still being torn down
  // holds (its cleanup runs after its process ended) is waited for, at most 15 s.
  for (let wait = 0; ; wait++) {
    const busy = await withLock(runDir, async () => {
      const others = attachedIds(o).filter((x) => x !== id).map((x) => readRecord(runDir, x)).filter((r): r is TeardownRecord => !!r);
      const taken = others.flatMap((r) => r.ports);
      const leaving = others.filter((r) => r.teardownOwner).flatMap((r) => r.ports);
      if (wait < 150 && specs.some((p) => p.hostPort && leaving.some((b) => sameHostPort(b, p)))) return true;
      rec.ports = await allocatePorts(specs, taken);
      writeRecord(runDir, rec);
      return false;
    });
    if (!busy) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  let t = Date.now();
  const step = (name: string) => {
    const now = Date.now();
    o.onStep?.(name, now - t);
    t = now;
  };
  const plugin = (p: 'bridge' | 'loopback' | 'host-local', config: Record<string, unknown>, ifname = 'eth0') =>
    runPlugin({ plugin: p, command: 'ADD', containerId: id, netns: rec.netns, ifname, config, env: o.env });
  try {
    const [, lease] = await Promise.all([run('ip', ['netns', 'add', netnsName]), plugin('host-local', ipam)]);
    const addr = lease?.ips?.[0];
    if (!addr) throw new StrataError('NETWORK_SETUP', 'host-local gave the container no address');
    const [ip, prefix] = addr.address.split('/');
    rec.result = { cniVersion: '1.0.0', ips: [{ address: addr.address, gateway: addr.gateway ?? network.gateway }] };
    rec.bridgeConfig = bridgeConfig(network, runDir, addr.address);
    rec.portRules = portRules(id, ip, rec.ports);
    writeRecord(runDir, rec);
    step('netns add + host-local ADD');
    const [result] = await Promise.all([
      plugin('bridge', rec.bridgeConfig),
      plugin('loopback', { cniVersion: '1.0.0', name: `${network.name}-lo`, type: 'loopback' }, 'lo'),
      rec.portRules.length ? addPortRules(rec.portRules).then(() => forgetUdpFlows(rec.ports)) : undefined,
    ]);
    if (rec.ports.length) routeLocalnet(network.bridge);
    step(rec.ports.length ? 'bridge + loopback ADD + port rules' : 'bridge + loopback ADD');
    rec.attachment = {
      netns: rec.netns,
      network: network.name,
      bridge: network.bridge,
      ip,
      prefixLen: Number(prefix),
      gateway: addr.gateway ?? network.gateway,
      mac: result ? macOf(result) : '',
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
 * Let packets from 127.0.0.0/8, DNATed to a container, leave through the bridge (the kernel
 * drops them as martians otherwise): what makes `curl 127.0.0.1:PORT` reach a published port.
 */
function routeLocalnet(bridge: string): void {
  const f = `/proc/sys/net/ipv4/conf/${bridge}/route_localnet`;
  try {
    if (readFileSync(f, 'utf8').trim() !== '1') writeFileSync(f, '1');
  } catch (e) {
    throw new StrataError('NETWORK_SETUP', `cannot set route_localnet on ${bridge}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Undo `attach` (from its teardown record; nothing to do without one): bridge and host-local DEL
 * and the port rules' removal together (the veth, the lease, the port mappings), then the
 * namespace. Safe to repeat. On failure the record stays, for the next try.
 */
export async function detach(id: string, o: NetworkOptions & { waitForOwnerMs?: number } = {}): Promise<void> {
  const runDir = runDirOf(o);
  let rec = readRecord(runDir, id);
  if (!rec) return;
  // Someone else (the cleanup process the owner handed it to) is on it: left to it, or, with
  // waitForOwnerMs (crash recovery, which must leave nothing behind), waited for, and done here
  // if that process dies first.
  const othersLive = () => rec?.teardownOwner !== undefined && rec.teardownOwner.pid !== process.pid && alive(rec.teardownOwner);
  if (othersLive()) {
    const until = Date.now() + (o.waitForOwnerMs ?? 0);
    while (othersLive() && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
      rec = readRecord(runDir, id);
    }
    if (!rec || othersLive()) return;
  }
  const netnsThere = existsSync(rec.netns);
  const netns = netnsThere ? rec.netns : '';
  const del = (p: 'bridge' | 'portmap' | 'host-local', config: Record<string, unknown>) => runPlugin({ plugin: p, command: 'DEL', containerId: id, netns, ifname: 'eth0', config, env: o.env });
  const dels: Array<Promise<unknown>> = [del('bridge', rec.bridgeConfig)];
  if (rec.portRules) dels.push(removePortRules(id, rec.portRules));
  else if (rec.ports.length) dels.push(del('portmap', portmapConfig(rec)));
  if (rec.ipamConfig) dels.push(del('host-local', rec.ipamConfig));
  const t = Date.now();
  const results = await Promise.allSettled(dels);
  o.onStep?.(rec.ports.length ? 'bridge + host-local DEL + port rules' : 'bridge + host-local DEL', Date.now() - t);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  // The namespace stays until the plugins are done with it: without it, a later bridge DEL could
  // no longer find the address whose masquerading rule it must remove.
  if (failed) throw failed.reason;
  if (netnsThere) {
    const t2 = Date.now();
    await run('ip', ['netns', 'del', rec.netnsName]);
    o.onStep?.('netns del', Date.now() - t2);
  }
  rmSync(recordFile(runDir, id), { force: true });
}
