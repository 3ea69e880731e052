// A dockerd of one's own, with Docker's default bridge networking and iptables, so published ports
// can be compared with strata's (packages/container/test/network.test.ts) and timed against them
// (tools/bench/container-run.mjs). The machine's shared dockerd runs with --iptables=false (no
// NAT, no published-port rules): this one gets its own bridge, subnet, data-root, exec-root,
// pidfile and socket, and takes away every rule it added when it stops. Plain JavaScript, so the
// benchmarks (not built) and the tests both use it.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's docker client (the one on PATH first may be another). */
export const DOCKER = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
export const DOCKERD = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => existsSync(p)) ?? 'dockerd';
/** The test dockerd's bridge and subnet: chosen not to overlap strata's 10.88-91/16 or docker0's 172.17/16. */
export const TEST_BRIDGE = 'stratadk0';
export const TEST_SUBNET_PREFIX = '10.213.0.';
const BRIDGE_CIDR = '10.213.0.1/24';

/**
 * @typedef {object} TestDockerd
 * @property {(args: string[], opts?: {input?: string, timeoutMs?: number}) => {code: number, out: string, err: string}} docker
 * @property {string} host  unix:// socket
 * @property {string} gateway  the bridge's address
 * @property {() => Promise<void>} stop
 */

function iptablesSave() {
  /** @type {Record<string, string[]>} */
  const out = {};
  for (const t of ['filter', 'nat']) out[t] = execFileSync('iptables', ['-w', '-t', t, '-S'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n');
  return out;
}

/** Rules and chains of this dockerd only: they name its bridge, its subnet or a DOCKER chain. */
function isDockers(line) {
  return line.includes('DOCKER') || line.includes(TEST_BRIDGE) || line.includes(TEST_SUBNET_PREFIX);
}

/** Remove what the test dockerd added to netfilter (its chains and the rules that name them, its bridge, its subnet). */
function removeDockerRules(before = { filter: [], nat: [] }) {
  const after = iptablesSave();
  for (const t of ['nat', 'filter']) {
    const added = after[t].filter((l) => !before[t].includes(l) && isDockers(l));
    for (const l of added.filter((x) => x.startsWith('-A '))) {
      const args = l.slice(3).match(/"[^"]*"|\S+/g).map((a) => a.replace(/^"|"$/g, ''));
      try {
        execFileSync('iptables', ['-w', '-t', t, '-D', ...args], { stdio: 'ignore' });
      } catch {
        // gone with its chain
      }
    }
    const chains = added.filter((x) => x.startsWith('-N ')).map((x) => x.slice(3));
    for (const c of chains) execFileSync('iptables', ['-w', '-t', t, '-F', c], { stdio: 'ignore' });
    for (const c of chains) execFileSync('iptables', ['-w', '-t', t, '-X', c], { stdio: 'ignore' });
  }
}

function unmountUnder(dir) {
  for (const m of readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((p) => p && p.startsWith(dir)).reverse()) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      // not a mount any more
    }
  }
}

/** What an interrupted earlier run left: its dockerd (by its pidfile), its dirs, bridge and rules. */
function cleanLeftovers() {
  const stale = readdirSync(tmpdir()).filter((n) => n.startsWith('strata-dockerd-')).map((n) => join(tmpdir(), n));
  for (const dir of stale) {
    try {
      const pid = Number(readFileSync(join(dir, 'docker.pid'), 'utf8'));
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) process.kill(pid, 'SIGKILL');
    } catch {
      // no pidfile or no such process
    }
  }
  if (existsSync(`/sys/class/net/${TEST_BRIDGE}`)) {
    removeDockerRules();
    execFileSync('ip', ['link', 'del', TEST_BRIDGE], { stdio: 'ignore' });
  }
  for (const dir of stale) {
    unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Start it with `image` imported from the rootfs tar `rootfsTar` (CMD sh, EXPOSE 80).
 * @param {{rootfsTar: string, image: string}} o
 * @returns {Promise<TestDockerd>}
 */
export async function startTestDockerd(o) {
  cleanLeftovers();
  const dir = mkdtempSync(join(tmpdir(), 'strata-dockerd-'));
  const sock = join(dir, 'docker.sock');
  const host = `unix://${sock}`;
  const before = iptablesSave();
  // ip_forward already on (strata's bridge plugin turns it on too): dockerd then leaves the FORWARD policy alone.
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
  execFileSync('ip', ['link', 'add', TEST_BRIDGE, 'type', 'bridge']);
  execFileSync('ip', ['addr', 'add', BRIDGE_CIDR, 'dev', TEST_BRIDGE]);
  execFileSync('ip', ['link', 'set', TEST_BRIDGE, 'up']);
  writeFileSync(join(dir, 'daemon.json'), '{}');
  const log = openSync(join(dir, 'dockerd.log'), 'a');
  const child = spawn(DOCKERD, [
    '--config-file', join(dir, 'daemon.json'),
    '--data-root', join(dir, 'data'),
    '--exec-root', join(dir, 'exec'),
    '--pidfile', join(dir, 'docker.pid'),
    '--host', host,
    '--bridge', TEST_BRIDGE,
    '--iptables=true',
    '--ip-masq=true',
    '--userland-proxy=true',
  ], { stdio: ['ignore', log, log] });
  /** @type {TestDockerd['docker']} */
  const docker = (args, opts = {}) => {
    try {
      const out = execFileSync(DOCKER, ['-H', host, ...args], { encoding: 'utf8', input: opts.input, timeout: opts.timeoutMs ?? 60_000, stdio: ['pipe', 'pipe', 'pipe'] });
      return { code: 0, out, err: '' };
    } catch (e) {
      const err = /** @type {{status?: number, stdout?: string, stderr?: string}} */ (e);
      return { code: err.status ?? 1, out: err.stdout ?? '', err: err.stderr ?? '' };
    }
  };
  const stop = async () => {
    if (child.exitCode === null) {
      docker(['rm', '-f', ...docker(['ps', '-aq']).out.split('\n').filter(Boolean)]);
      child.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          r(undefined);
        }, 20_000);
        child.on('exit', () => {
          clearTimeout(t);
          r(undefined);
        });
      });
    }
    removeDockerRules(before);
    try {
      execFileSync('ip', ['link', 'del', TEST_BRIDGE], { stdio: 'ignore' });
    } catch {
      // already gone
    }
    // containerd's shim mounts under exec-root and data-root are gone with dockerd; make sure.
    unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 120; i++) {
    if (docker(['info', '--format', '{{.ServerVersion}}']).code === 0) break;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  if (docker(['info']).code !== 0) {
    const text = readFileSync(join(dir, 'dockerd.log'), 'utf8').split('\n').slice(-5).join('\n');
    await stop();
    throw new Error(`the test dockerd did not start:\n${text}`);
  }
  const imp = docker(['import', '--change', 'CMD ["sh"]', '--change', 'EXPOSE 80', o.rootfsTar, o.image]);
  if (imp.code !== 0) {
    await stop();
    throw new Error(`docker import failed: ${imp.err}`);
  }
  return { docker, host, gateway: BRIDGE_CIDR.split('/')[0], stop };
}
