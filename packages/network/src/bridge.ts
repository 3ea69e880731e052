import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pidAlive } from '@strata/cas/process';
import { StrataError } from '@strata/errors';
import { findTool } from '@strata/host-tools';
import { DEFAULT_RUN_DIR } from './run-dir';
import { chooseSubnet, formatCidr, gatewayOf, parseCidr } from './subnet';

export { DEFAULT_RUN_DIR };

export const NETWORK_NAME = 'strata';
export const BRIDGE_NAME = 'strata0';
/** strata's own filter chain, jumped to first from FORWARD (so a FORWARD policy of DROP, as Docker sets, does not cut containers off). */
export const FORWARD_CHAIN = 'STRATA-FORWARD';
/** strata's own nat chain, jumped to from POSTROUTING: the bridge's masquerading, one rule for the network as Docker's. */
export const NAT_CHAIN = 'STRATA-POSTROUTING';
/**
 * strata's nat chain for published ports: jumped to from PREROUTING (clients elsewhere, and
 * containers through the gateway address) and OUTPUT (clients on this host, 127.0.0.1 included)
 * for packets addressed to one of the host's own addresses. It holds one DNAT rule a published
 * port, tagged with the container's ID (port-rules.ts).
 */
export const DNAT_CHAIN = 'STRATA-DNAT';

/** `RUN_DIR/networks/strata.json`: the bridge network as strata made it. */
export interface BridgeNetwork {
  name: string;
  bridge: string;
  subnet: string;
  gateway: string;
  created: string;
  /** Which set of network-level rules was made (older records are brought up to date). */
  rules?: number;
}

/** The version of `addNetworkRules`' rules. */
const RULES = 3;

export interface NetworkOptions {
  /** Host-wide state directory (default /run/strata, a tmpfs: it goes with the bridge at reboot). */
  runDir?: string;
  /** The bridge's subnet when the network is made (default: `$STRATA_BRIDGE_SUBNET`, else the first free default). */
  subnet?: string;
  env?: NodeJS.ProcessEnv;
  /** Called with the time each step of attach/detach took (for -v and benchmarks). */
  onStep?: (step: string, ms: number) => void;
}

export function runDirOf(o: NetworkOptions = {}): string {
  return o.runDir ?? DEFAULT_RUN_DIR;
}

/** host-local's dataDir: its leases live in `<dir>/strata/<ip>` (a file per address, locked by the plugin). */
export function ipamDir(runDir: string): string {
  return join(runDir, 'cni');
}

function networkFile(runDir: string): string {
  return join(runDir, 'networks', `${NETWORK_NAME}.json`);
}

export function readNetwork(runDir: string): BridgeNetwork | undefined {
  try {
    return JSON.parse(readFileSync(networkFile(runDir), 'utf8')) as BridgeNetwork;
  } catch {
    return undefined;
  }
}

function atomicJson(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}

/** Run a host tool; resolves to stdout, rejects with NETWORK_SETUP and its stderr. */
export function run(tool: 'ip' | 'iptables', args: string[], opts: { ignoreFailure?: boolean } = {}): Promise<string> {
  const argv = tool === 'iptables' ? ['-w', ...args] : args;
  return new Promise((resolve, reject) =>
    execFile(findTool(tool), argv, (err, stdout, stderr) => {
      if (err && !opts.ignoreFailure) reject(new StrataError('NETWORK_SETUP', `${tool} ${argv.join(' ')}: ${String(stderr).trim() || err.message}`, { cause: err }));
      else resolve(String(stdout));
    }),
  );
}

/** A directory lock between strata processes (mkdir is atomic); a dead holder's lock is broken. */
export async function withLock<T>(runDir: string, fn: () => Promise<T>): Promise<T> {
  const dir = join(runDir, 'networks', '.lock');
  mkdirSync(join(runDir, 'networks'), { recursive: true });
  for (let i = 0; ; i++) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      break;
    } catch {
      let holder = 0;
      try {
        holder = Number(readFileSync(join(dir, 'pid'), 'utf8'));
      } catch {
        // being made or removed right now
      }
      if ((holder && !pidAlive(holder)) || i > 600) rmSync(dir, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 25));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The bridge network, made on first use: the subnet is chosen (and checked against the host's
 * routes) and strata's FORWARD chain added, under a lock; the bridge itself is made by the CNI
 * `bridge` plugin on the first attach. Later calls only read the record. A different subnet
 * asked for while the network exists is a CONFLICT.
 */
export async function ensureNetwork(o: NetworkOptions = {}): Promise<BridgeNetwork> {
  const runDir = runDirOf(o);
  const wanted = o.subnet ?? o.env?.STRATA_BRIDGE_SUBNET;
  const check = (n: BridgeNetwork) => {
    if (wanted && formatCidr(parseCidr(wanted)) !== n.subnet) {
      throw new StrataError('CONFLICT', `the ${n.bridge} network exists with subnet ${n.subnet}, not ${wanted}`, {
        hint: 'remove every bridge container first (strata container rm), then the network is made again with the new subnet',
      });
    }
    return n;
  };
  const existing = readNetwork(runDir);
  if (existing?.rules === RULES) return check(existing);
  return withLock(runDir, async () => {
    const again = readNetwork(runDir);
    if (again?.rules === RULES) return check(again);
    if (again) {
      // made by an older strata: its rules are brought up to date
      check(again);
      await addNetworkRules(again.subnet);
      const n = { ...again, rules: RULES };
      atomicJson(networkFile(runDir), n);
      return n;
    }
    const cidr = chooseSubnet(BRIDGE_NAME, wanted);
    await addNetworkRules(formatCidr(cidr));
    const n: BridgeNetwork = { name: NETWORK_NAME, bridge: BRIDGE_NAME, subnet: formatCidr(cidr), gateway: gatewayOf(cidr), created: new Date().toISOString(), rules: RULES };
    atomicJson(networkFile(runDir), n);
    return n;
  });
}

/**
 * Where strata's chains are jumped to from the built-in ones: the table, the built-in chain, the
 * jump rule, and whether it goes first (FORWARD's: ahead of whatever else decides there).
 */
const JUMPS: ReadonlyArray<{ table: string; from: string; rule: string[]; first?: true }> = [
  { table: 'filter', from: 'FORWARD', rule: ['-j', FORWARD_CHAIN], first: true },
  { table: 'nat', from: 'POSTROUTING', rule: ['-j', NAT_CHAIN] },
  { table: 'nat', from: 'PREROUTING', rule: ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', DNAT_CHAIN] },
  { table: 'nat', from: 'OUTPUT', rule: ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', DNAT_CHAIN] },
];
const CHAINS: ReadonlyArray<[string, string]> = [['filter', FORWARD_CHAIN], ['nat', NAT_CHAIN], ['nat', DNAT_CHAIN]];

/**
 * The network's own rules, made once with the network (not per container: fewer iptables calls a
 * start, nothing per container to leak). FORWARD accepts the bridge's traffic. In nat: the
 * subnet's traffic leaving by another interface is masqueraded — Docker's docker0 rule, word for
 * word; a published port's traffic (`STRATA-DNAT`, a rule a port, see port-rules.ts) is
 * masqueraded on its way into the bridge when it comes from 127.0.0.0/8 (which cannot leave the
 * host: the bridge has `route_localnet`) or from the bridge's own subnet (hairpin: the reply must
 * come back through the host to be translated back) — what Docker does without its userland proxy.
 */
async function addNetworkRules(subnet: string): Promise<void> {
  await removeNetworkRules();
  await run('iptables', ['-t', 'nat', '-N', NAT_CHAIN]);
  await run('iptables', ['-t', 'nat', '-A', NAT_CHAIN, '-s', subnet, '!', '-o', BRIDGE_NAME, '-j', 'MASQUERADE']);
  await run('iptables', ['-t', 'nat', '-A', NAT_CHAIN, '-s', '127.0.0.0/8', '-o', BRIDGE_NAME, '-j', 'MASQUERADE']);
  await run('iptables', ['-t', 'nat', '-A', NAT_CHAIN, '-s', subnet, '-o', BRIDGE_NAME, '-m', 'conntrack', '--ctstate', 'DNAT', '-j', 'MASQUERADE']);
  await run('iptables', ['-t', 'nat', '-N', DNAT_CHAIN]);
  await run('iptables', ['-N', FORWARD_CHAIN]);
  await run('iptables', ['-A', FORWARD_CHAIN, '-o', BRIDGE_NAME, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT']);
  await run('iptables', ['-A', FORWARD_CHAIN, '-o', BRIDGE_NAME, '-m', 'conntrack', '--ctstate', 'DNAT', '-j', 'ACCEPT']);
  await run('iptables', ['-A', FORWARD_CHAIN, '-i', BRIDGE_NAME, '-j', 'ACCEPT']);
  for (const j of JUMPS) await run('iptables', ['-t', j.table, ...(j.first ? ['-I', j.from, '1'] : ['-A', j.from]), ...j.rule]);
}

async function removeNetworkRules(): Promise<void> {
  for (const { table, from, rule } of JUMPS) {
    const chain = rule[rule.length - 1];
    // Each jump that may be there (a crashed earlier setup could have left more than one).
    for (let i = 0; i < 5; i++) {
      const out = await run('iptables', ['-t', table, '-S', from], { ignoreFailure: true });
      if (!out.includes(`-j ${chain}`)) break;
      await run('iptables', ['-t', table, '-D', from, ...rule], { ignoreFailure: true });
    }
  }
  for (const [table, chain] of CHAINS) {
    await run('iptables', ['-t', table, '-F', chain], { ignoreFailure: true });
    await run('iptables', ['-t', table, '-X', chain], { ignoreFailure: true });
  }
}

/** Leases host-local holds for the network (files named by address). */
export function leases(runDir: string): string[] {
  const dir = join(ipamDir(runDir), NETWORK_NAME);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((n) => /^\d+\.\d+\.\d+\.\d+$/.test(n));
}

/** The shared chains the portmap plugin makes on first use and leaves (they may serve other CNI users). */
const PORTMAP_CHAINS = ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-SETMARK', 'CNI-HOSTPORT-MASQ'];

/**
 * Remove the bridge network when no container is attached (no teardown record, no lease): the
 * bridge, strata's FORWARD chain, and portmap's shared chains when they hold no mapping. Returns
 * false (and removes nothing) while something is attached. Docker keeps docker0 for good;
 * strata keeps strata0 between containers too and removes it only when asked (tests do, to
 * leave the host as they found it).
 */
export async function removeNetwork(o: NetworkOptions = {}): Promise<boolean> {
  const runDir = runDirOf(o);
  return withLock(runDir, async () => {
    const attached = existsSync(join(runDir, 'net')) ? readdirSync(join(runDir, 'net')).filter((n) => n.endsWith('.json')) : [];
    if (attached.length || leases(runDir).length) return false;
    await removeNetworkRules();
    if (existsSync(`/sys/class/net/${BRIDGE_NAME}`)) await run('ip', ['link', 'del', BRIDGE_NAME], { ignoreFailure: true });
    const nat = await run('iptables', ['-t', 'nat', '-S'], { ignoreFailure: true });
    const mappings = nat.split('\n').filter((l) => l.startsWith('-A CNI-HOSTPORT-DNAT ') || l.startsWith('-A CNI-DN-'));
    if (!mappings.length && nat.includes('-N CNI-HOSTPORT-DNAT')) {
      await run('iptables', ['-t', 'nat', '-D', 'PREROUTING', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'CNI-HOSTPORT-DNAT'], { ignoreFailure: true });
      await run('iptables', ['-t', 'nat', '-D', 'OUTPUT', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'CNI-HOSTPORT-DNAT'], { ignoreFailure: true });
      await run('iptables', ['-t', 'nat', '-D', 'POSTROUTING', '-m', 'comment', '--comment', 'CNI portfwd requiring masquerade', '-j', 'CNI-HOSTPORT-MASQ'], { ignoreFailure: true });
      for (const c of PORTMAP_CHAINS) await run('iptables', ['-t', 'nat', '-F', c], { ignoreFailure: true });
      for (const c of PORTMAP_CHAINS) await run('iptables', ['-t', 'nat', '-X', c], { ignoreFailure: true });
    }
    rmSync(join(ipamDir(runDir), NETWORK_NAME), { recursive: true, force: true });
    rmSync(networkFile(runDir), { force: true });
    return true;
  });
}

/** host-local's part of the network config: the subnet, its leases in RUN_DIR/cni/strata/. */
export function ipamConfig(n: BridgeNetwork, runDir: string): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name: n.name,
    ipam: { type: 'host-local', ranges: [[{ subnet: n.subnet, gateway: n.gateway }]], dataDir: ipamDir(runDir) },
  };
}

/**
 * The CNI config of the bridge plugin for one container: its address (from host-local, given
 * through the `static` IPAM plugin), or without one host-local itself (a DEL of an old record).
 */
export function bridgeConfig(n: BridgeNetwork, runDir: string, address?: string): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name: n.name,
    type: 'bridge',
    bridge: n.bridge,
    // A default route through the bridge (isGateway alone loses the replies), and hairpin so a
    // container reaches its own published port. Masquerading is the network's one rule
    // (addNetworkRules), not the plugin's chain a container.
    isGateway: true,
    isDefaultGateway: true,
    ipMasq: false,
    hairpinMode: true,
    ipam: address ? { type: 'static', addresses: [{ address, gateway: n.gateway }] } : (ipamConfig(n, runDir).ipam as Record<string, unknown>),
  };
}
