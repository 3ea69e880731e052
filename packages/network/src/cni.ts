import { spawn } from 'node:child_process';
import { StrataError } from '@strata/errors';
import { cniPluginDirs, findCniPlugin, type CniPlugin } from '@strata/host-tools';

/** What a CNI plugin returns on ADD (spec 1.0): interfaces, IPs, routes. */
export interface CniResult {
  cniVersion: string;
  interfaces?: Array<{ name: string; mac?: string; sandbox?: string }>;
  ips?: Array<{ interface?: number; address: string; gateway?: string }>;
  routes?: Array<{ dst: string; gw?: string }>;
  dns?: unknown;
}

export interface PluginCall {
  plugin: CniPlugin;
  command: 'ADD' | 'DEL' | 'CHECK';
  containerId: string;
  netns: string;
  ifname: string;
  config: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
}

/** The PATH a plugin gets: it runs iptables and the IPAM plugin itself. */
const PLUGIN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Run one CNI plugin (the CNI protocol: config on stdin, `CNI_*` in the environment, a result or
 * an error object on stdout). A failure is NETWORK_SETUP with the plugin's own message.
 */
export function runPlugin(c: PluginCall): Promise<CniResult | undefined> {
  const bin = findCniPlugin(c.plugin, c.env);
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        CNI_COMMAND: c.command,
        CNI_CONTAINERID: c.containerId,
        CNI_NETNS: c.netns,
        CNI_IFNAME: c.ifname,
        CNI_PATH: cniPluginDirs(c.env).join(':'),
        PATH: PLUGIN_PATH,
      },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new StrataError('NETWORK_SETUP', `cannot run CNI plugin ${c.plugin}: ${e.message}`, { cause: e })));
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify(c.config));
    child.on('close', (code) => {
      const text = Buffer.concat(out).toString('utf8').trim();
      if (code === 0) {
        if (c.command !== 'ADD' || !text) return resolve(undefined);
        try {
          return resolve(JSON.parse(text) as CniResult);
        } catch (e) {
          return reject(new StrataError('NETWORK_SETUP', `CNI plugin ${c.plugin} ${c.command}: unreadable result`, { cause: e }));
        }
      }
      let msg = Buffer.concat(err).toString('utf8').trim() || `exit code ${code}`;
      try {
        const e = JSON.parse(text) as { msg?: string; details?: string };
        if (e.msg) msg = e.details ? `${e.msg}: ${e.details}` : e.msg;
      } catch {
        // not a CNI error object
      }
      reject(new StrataError('NETWORK_SETUP', `CNI plugin ${c.plugin} ${c.command} failed: ${msg.split('\n')[0]}`));
    });
  });
}
