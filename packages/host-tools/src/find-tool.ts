import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { StrataError } from '@strata/errors';

/**
 * Every program strata starts, and the Debian package that installs it (named in the error
 * when it is missing). Looking a tool up anywhere else is a bug: this is the one place.
 */
export const TOOLS = {
  runc: 'runc',
  crun: 'crun',
  unshare: 'util-linux',
  nsenter: 'util-linux',
  mount: 'mount',
  umount: 'mount',
  cp: 'coreutils',
  tar: 'tar',
  ip: 'iproute2',
  iptables: 'iptables',
  'iptables-restore': 'iptables',
  conntrack: 'conntrack',
} as const;

export type ToolName = keyof typeof TOOLS;

/** The CNI plugins strata runs, from Debian's containernetworking-plugins. */
export const CNI_PLUGINS = ['bridge', 'host-local', 'static', 'portmap', 'loopback'] as const;
export type CniPlugin = (typeof CNI_PLUGINS)[number];

/** Where CNI plugins are looked for when `$CNI_PATH` is not set (Debian's, then upstream's). */
export const DEFAULT_CNI_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];

const found = new Map<string, string>();

let host: Readonly<Record<string, string | undefined>> = {};

/**
 * The environment host lookups read (PATH, CNI_PATH, STRATA_RUNTIME, STRATA_COW). Library code
 * reads no `process.env`: the CLI hands over its own environment at start; a program using the
 * libraries may set one. Unset, tools are looked for in the system directories only.
 */
export function setHostEnv(env: Readonly<Record<string, string | undefined>>): void {
  host = { ...env };
  found.clear();
}

export function hostEnv(): Readonly<Record<string, string | undefined>> {
  return host;
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `cmd` on `path` (a command name) or as given (a path); undefined when not executable. */
export function which(cmd: string, path: string, cwd: string): string | undefined {
  if (cmd.includes('/')) {
    const p = isAbsolute(cmd) ? cmd : join(cwd, cmd);
    return executable(p) ? p : undefined;
  }
  for (const d of path.split(delimiter).filter(Boolean)) if (executable(join(d, cmd))) return join(d, cmd);
  return undefined;
}

/** Directories searched after `$PATH`: root's tools live in sbin, which a user's PATH may lack. */
const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'];

/** The absolute path of a tool, or TOOL_NOT_FOUND naming the package to install. */
export function findTool(name: ToolName, env: Readonly<Record<string, string | undefined>> = host): string {
  const key = `${name}\0${env.PATH ?? ''}`;
  const hit = found.get(key);
  if (hit) return hit;
  const p = which(name, [env.PATH ?? '', ...SBIN].join(delimiter), '/');
  if (!p) throw new StrataError('TOOL_NOT_FOUND', `${name} not found on PATH`, { hint: `install the ${TOOLS[name]} package` });
  found.set(key, p);
  return p;
}

/** The directories searched for CNI plugins: `$CNI_PATH` (colon-separated), else the defaults. */
export function cniPluginDirs(env: Readonly<Record<string, string | undefined>> = host): string[] {
  return env.CNI_PATH ? env.CNI_PATH.split(delimiter).filter(Boolean) : DEFAULT_CNI_DIRS;
}

/** The absolute path of a CNI plugin, or TOOL_NOT_FOUND naming containernetworking-plugins. */
export function findCniPlugin(name: CniPlugin, env: Readonly<Record<string, string | undefined>> = host): string {
  const dirs = cniPluginDirs(env);
  const key = `cni:${name}\0${dirs.join(':')}`;
  const hit = found.get(key);
  if (hit) return hit;
  const p = dirs.map((d) => join(d, name)).find(executable);
  if (!p) {
    throw new StrataError('TOOL_NOT_FOUND', `CNI plugin "${name}" not found in ${dirs.join(':')}`, {
      hint: 'install the containernetworking-plugins package, or set CNI_PATH to the directory holding the plugins',
    });
  }
  found.set(key, p);
  return p;
}
