import { execFile, spawn } from 'node:child_process';
import { StrataError } from '@strata/errors';
import { findTool } from '@strata/host-tools';
import { DNAT_CHAIN, run } from './bridge';
import type { PortBinding } from './publish';

/** The comment that tags a container's rules (how a crash's leftovers are found again). */
const tag = (id: string) => `strata:${id}`;

/**
 * The DNAT rules of a container's published ports, as iptables rule specs (no `-A CHAIN`):
 * `-p 127.0.0.1:8080:80` is `-d 127.0.0.1/32 -p tcp -m tcp --dport 8080 … -j DNAT
 * --to-destination IP:80`. The masquerading that makes replies come back through the host
 * (clients on 127.0.0.1, and hairpin: a container reaching a published port) is the network's
 * own two rules, not per container.
 */
export function portRules(id: string, ip: string, ports: readonly PortBinding[]): string[] {
  return ports.map((p) =>
    [
      ...(p.hostIp ? [`-d ${p.hostIp}/32`] : []),
      `-p ${p.protocol} -m ${p.protocol} --dport ${p.hostPort}`,
      `-m comment --comment ${tag(id)}`,
      `-j DNAT --to-destination ${ip}:${p.containerPort}`,
    ].join(' '),
  );
}

/** Feed `iptables-restore --noflush` one nat-table transaction: all of it applies, or none. */
function restore(lines: readonly string[]): Promise<void> {
  const input = `*nat\n${lines.join('\n')}\nCOMMIT\n`;
  return new Promise((resolve, reject) => {
    const child = spawn(findTool('iptables-restore'), ['-w', '--noflush'], { stdio: ['pipe', 'ignore', 'pipe'] });
    const err: Buffer[] = [];
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new StrataError('NETWORK_SETUP', `cannot run iptables-restore: ${e.message}`, { cause: e })));
    child.stdin.on('error', () => {});
    child.stdin.end(input);
    child.on('close', (code) => {
      if (code === 0) return resolve();
      const msg = Buffer.concat(err).toString('utf8').trim().split('\n')[0] || `exit code ${code}`;
      reject(new StrataError('NETWORK_SETUP', `iptables-restore: ${msg}`));
    });
  });
}

/** Add a container's port rules, in one transaction (one process, whatever the number of ports). */
export async function addPortRules(rules: readonly string[]): Promise<void> {
  if (rules.length) await restore(rules.map((r) => `-A ${DNAT_CHAIN} ${r}`));
}

/**
 * Remove a container's port rules. The fast path deletes exactly the rules it was given, in one
 * transaction; when that fails (a crash came before they were added, or part of them is gone),
 * the chain is listed and whatever rules carry the container's tag are deleted. Safe to repeat.
 */
export async function removePortRules(id: string, rules: readonly string[]): Promise<void> {
  if (!rules.length) return;
  try {
    await restore(rules.map((r) => `-D ${DNAT_CHAIN} ${r}`));
    return;
  } catch {
    // not all there: fall through
  }
  const listed = await run('iptables', ['-t', 'nat', '-S', DNAT_CHAIN], { ignoreFailure: true });
  const tagged = new RegExp(`--comment "?${tag(id).replace(/[^\w:]/g, '\\$&')}"?( |$)`);
  const mine = listed.split('\n').filter((l) => l.startsWith(`-A ${DNAT_CHAIN} `) && tagged.test(l));
  if (mine.length) await restore(mine.map((l) => `-D${l.slice(2)}`));
}

/**
 * Forget the UDP flows the kernel keeps for these host ports: a datagram stream that began before
 * the mapping (or toward a container that has gone) would otherwise keep its old translation until
 * it is idle for 30 s, as Docker and the portmap plugin also clear. Only where `conntrack`
 * (Debian's conntrack package) is installed; nothing to do otherwise but wait for the timeout.
 */
export async function forgetUdpFlows(ports: readonly PortBinding[]): Promise<void> {
  const udp = ports.filter((p) => p.protocol === 'udp');
  if (!udp.length) return;
  let bin: string;
  try {
    bin = findTool('conntrack');
  } catch {
    return;
  }
  await Promise.all(
    udp.map(
      (p) => new Promise<void>((resolve) => execFile(bin, ['-D', '-p', 'udp', '--orig-port-dst', String(p.hostPort)], () => resolve())),
    ),
  );
}
