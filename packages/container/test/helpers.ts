// Shared by the container tests: a store with the busybox base, the strata CLI, counts of what
// networking leaves on the host, and a bounded HTTP/UDP client for loopback and namespaces.
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { BRIDGE_NAME, DEFAULT_RUN_DIR, leases } from '@strata/network';
import { busyboxRootfsTar, runStrata, type CliResult } from '@strata/testing';

export const IMAGE = 'strata-test/busybox-web:latest';

/** busybox httpd serving `hello` and /cgi-bin/addr (the client's address as the server sees it). */
export const HTTPD = [
  'sh', '-c',
  'mkdir -p /www/cgi-bin && echo hello > /www/index.html && printf \'#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $REMOTE_ADDR\\n\' > /www/cgi-bin/addr && chmod +x /www/cgi-bin/addr && exec httpd -f -p 80 -h /www',
];

export function strata(root: string) {
  return (args: string[], input?: string): Promise<CliResult> => runStrata(args, { root, input });
}

/** The busybox base in a store, with EXPOSE 80 (for -P). */
export async function importBase(root: string): Promise<void> {
  const r = await runStrata(['image', 'import', '--change', 'CMD ["sh"]', '--change', 'EXPOSE 80', busyboxRootfsTar(), IMAGE], { root });
  if (r.code !== 0) throw new Error(`image import: ${r.stderr}`);
}

/** GET http://host:port/path with a 3 s timeout; the body, or the error's code (ECONNREFUSED, TIMEOUT). */
export function httpGet(host: string, port: number, path = '/', timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    // busybox httpd's CGI replies end header lines with a bare \n
    const req = request({ host, port, path, timeout: timeoutMs, insecureHTTPParser: true }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => {
      req.destroy();
      resolve('TIMEOUT');
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'ERROR'));
    req.end();
  });
}

/** Retry a GET until it gives `want` (a server starting), at most `tries` times. */
export async function httpUntil(host: string, port: number, want: string, tries = 30, path = '/'): Promise<string> {
  let last = '';
  for (let i = 0; i < tries; i++) {
    last = await httpGet(host, port, path);
    if (last.trim() === want) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  return last;
}

/** Send one UDP datagram to host:port and wait (≤ 2 s) for one back. */
export async function udpEcho(host: string, port: number, msg: string): Promise<string> {
  const flow = udpFlow(host, port);
  try {
    return await flow.echo(msg);
  } finally {
    flow.close();
  }
}

/**
 * One UDP socket talking to host:port from a source port that stays the same (one conntrack
 * flow): `echo` sends a datagram and waits (≤ `timeoutMs`) for one back, or 'TIMEOUT'.
 */
export function udpFlow(host: string, port: number): { echo(msg: string, timeoutMs?: number): Promise<string>; close(): void } {
  const s = createSocket('udp4');
  s.on('error', () => {}); // ICMP port unreachable while nothing listens
  return {
    echo: (msg, timeoutMs = 2000) =>
      new Promise((resolve) => {
        const t = setTimeout(() => {
          s.removeAllListeners('message');
          resolve('TIMEOUT');
        }, timeoutMs);
        s.once('message', (m) => {
          clearTimeout(t);
          resolve(m.toString());
        });
        s.send(msg, port, host);
      }),
    close: () => s.close(),
  };
}

/** A UDP echo server on `port` inside a network namespace (`nsenter --net=PATH`), until killed. */
export function udpEchoServerIn(netns: string, port: number): { stop(): void; ready: Promise<void> } {
  const code = `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(m,r.port,r.address));s.bind(${port},'0.0.0.0',()=>console.log('ready'));setTimeout(()=>process.exit(0),60000);`;
  const child = spawn('nsenter', [`--net=${netns}`, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<void>((r) => child.stdout.once('data', () => r()));
  return { stop: () => child.kill('SIGKILL'), ready };
}

/** netfilter rules of strata's networking: strata's chains and rules (its DNAT rules are tagged `strata:<id>`), and any CNI plugin's. */
function strataRules(): number {
  let n = 0;
  for (const t of ['filter', 'nat', 'mangle']) {
    n += execFileSync('iptables', ['-w', '-t', t, '-S'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter((l) => /CNI-|STRATA|strata/.test(l)).length;
  }
  return n;
}

/** What strata's networking could leave behind on the host (only strata's: other tests run Docker beside). */
export interface HostCounts {
  rules: number;
  veths: number;
  netns: number;
  leases: number;
  mounts: number;
  teardownRecords: number;
  live: number;
}

export function hostCounts(): HostCounts {
  const dir = (d: string) => (existsSync(d) ? readdirSync(d).length : 0);
  return {
    rules: strataRules(),
    // The host ends of containers' veth pairs are the bridge's ports.
    veths: dir(`/sys/class/net/${BRIDGE_NAME}/brif`),
    netns: existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith('strata-')).length : 0,
    leases: leases(DEFAULT_RUN_DIR).length,
    // A container's own mounts live in its mount namespace; what could leak on the host is a netns bind mount.
    mounts: readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => /\/run\/netns\/strata-|\/run\/strata/.test(l)).length,
    teardownRecords: dir(join(DEFAULT_RUN_DIR, 'net')),
    live: dir(join(DEFAULT_RUN_DIR, 'live')),
  };
}

/** strata's NAT rules for a container address: the per-container chain that masquerades all but the bridge subnet. */
export function natRulesFor(ip: string): string[] {
  const nat = execFileSync('iptables', ['-w', '-t', 'nat', '-S'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n');
  const jump = nat.find((l) => l.startsWith(`-A POSTROUTING -s ${ip}/32`));
  if (!jump) return [];
  const chain = /-j (\S+)$/.exec(jump)![1];
  return [jump, ...nat.filter((l) => l.startsWith(`-A ${chain} `))];
}
