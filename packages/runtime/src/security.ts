import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { StrataError } from '@strata/errors';
import DEFAULT_PROFILE from './seccomp-default.json';

/**
 * Where `seccomp-default.json` comes from: Docker's default seccomp profile, public data, taken
 * as it is (only the translation below is ours).
 */
export const DEFAULT_SECCOMP_SOURCE = {
  repository: 'github.com/moby/profiles',
  path: 'seccomp/default.json',
  /** The last commit that changed the file (2026-05-06), at repository HEAD cd3bed8061c7. */
  commit: '3c28324314729dbade8287e868eef6338c42807a',
} as const;

/** A seccomp profile in Docker's JSON format (`--security-opt seccomp=FILE`). */
export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: Array<{ architecture: string; subArchitectures?: string[] }>;
  syscalls?: Array<{
    names?: string[];
    name?: string;
    action: string;
    errnoRet?: number;
    args?: Array<{ index: number; value: number; valueTwo?: number; op: string }>;
    includes?: { caps?: string[]; arches?: string[]; minKernel?: string };
    excludes?: { caps?: string[]; arches?: string[]; minKernel?: string };
    comment?: string;
  }>;
}

/** What a container may do, as Docker's `--security-opt`, `--cap-add/--cap-drop`, `--privileged`. */
export interface SecurityOptions {
  /** `default` (Docker's profile; also when absent), `unconfined`, or a profile in Docker's format. */
  seccomp?: 'default' | 'unconfined' | SeccompProfile;
  noNewPrivileges?: boolean;
  /** Capability names with or without `CAP_`, any case, or `ALL`. */
  capAdd?: string[];
  capDrop?: string[];
  /** Every capability, no seccomp filter, no masked paths, all devices: only where the host allows it. */
  privileged?: boolean;
}

/** Docker's default capability set (moby oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Every capability Linux defines, by number (capability.h). */
const ALL_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** The capabilities this kernel has (`/proc/sys/kernel/cap_last_cap`), as Docker limits `ALL`. */
function kernelCapabilities(): string[] {
  try {
    const last = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
    if (Number.isInteger(last) && last >= 0) return ALL_CAPABILITIES.slice(0, last + 1);
  } catch {
    // not Linux, or /proc is hidden: assume all
  }
  return ALL_CAPABILITIES;
}

function capName(c: string): string {
  const up = c.trim().toUpperCase();
  if (up === 'ALL') return up;
  const name = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!ALL_CAPABILITIES.includes(name)) throw new StrataError('USAGE', `unknown capability: "${name}"`);
  return name;
}

/**
 * The capability set of a container, by Docker's rules (moby oci/caps TweakCapabilities):
 * `--privileged` gets them all; `--cap-add ALL` starts from all, `--cap-drop ALL` from none,
 * else the default set; then drops, then adds.
 */
export function capabilitySet(o: Pick<SecurityOptions, 'capAdd' | 'capDrop' | 'privileged'>): string[] {
  const all = kernelCapabilities();
  if (o.privileged) return all;
  const add = (o.capAdd ?? []).map(capName);
  const drop = (o.capDrop ?? []).map(capName);
  let caps: string[];
  if (add.includes('ALL')) caps = all.filter((c) => !drop.includes(c));
  else {
    caps = drop.includes('ALL') ? [] : DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c));
    for (const c of add) if (!caps.includes(c)) caps.push(c);
  }
  return caps;
}

/** Node's architecture names → Go's (the profile's `arches`), and the native libseccomp name. */
const ARCHES: Record<string, { go: string; scmp: string }> = {
  x64: { go: 'amd64', scmp: 'SCMP_ARCH_X86_64' },
  ia32: { go: '386', scmp: 'SCMP_ARCH_X86' },
  arm64: { go: 'arm64', scmp: 'SCMP_ARCH_AARCH64' },
  arm: { go: 'arm', scmp: 'SCMP_ARCH_ARM' },
  ppc64: { go: 'ppc64le', scmp: 'SCMP_ARCH_PPC64LE' },
  s390x: { go: 's390x', scmp: 'SCMP_ARCH_S390X' },
  riscv64: { go: 'riscv64', scmp: 'SCMP_ARCH_RISCV64' },
};

function kernelAtLeast(min: string, running: string): boolean {
  const parse = (v: string) => v.split(/[.-]/).slice(0, 2).map((x) => parseInt(x, 10) || 0);
  const [a, b] = parse(running);
  const [c, d] = parse(min);
  return a > c || (a === c && b >= d);
}

/**
 * A profile in Docker's format → the OCI `linux.seccomp` object for this machine: only the rules
 * whose `includes` hold (architecture, every listed capability in `caps`, kernel version) and
 * whose `excludes` do not, as Docker does when it starts a container.
 */
export function seccompForSpec(
  profile: SeccompProfile,
  caps: readonly string[],
  env: { arch?: string; kernel?: string } = {},
): Record<string, unknown> {
  const arch = ARCHES[env.arch ?? process.arch];
  const kernel = env.kernel ?? release();
  let architectures = profile.architectures ?? [];
  if (profile.archMap && arch) {
    const m = profile.archMap.find((a) => a.architecture === arch.scmp);
    if (m) architectures = [m.architecture, ...(m.subArchitectures ?? [])];
  }
  const syscalls: Array<Record<string, unknown>> = [];
  for (const s of profile.syscalls ?? []) {
    const inc = s.includes ?? {};
    const exc = s.excludes ?? {};
    if (inc.arches?.length && (!arch || !inc.arches.includes(arch.go))) continue;
    if (inc.caps?.length && !inc.caps.every((c) => caps.includes(c))) continue;
    if (inc.minKernel && !kernelAtLeast(inc.minKernel, kernel)) continue;
    if (exc.arches?.length && arch && exc.arches.includes(arch.go)) continue;
    if (exc.caps?.length && exc.caps.some((c) => caps.includes(c))) continue;
    if (exc.minKernel && kernelAtLeast(exc.minKernel, kernel)) continue;
    const names = s.names ?? (s.name ? [s.name] : []);
    if (!names.length) continue;
    const rule: Record<string, unknown> = { names, action: s.action };
    if (s.errnoRet !== undefined) rule.errnoRet = s.errnoRet;
    if (s.args?.length) rule.args = s.args.map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op }));
    syscalls.push(rule);
  }
  const out: Record<string, unknown> = { defaultAction: profile.defaultAction, architectures, syscalls };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  return out;
}

/** Docker's default profile (see `DEFAULT_SECCOMP_SOURCE`). */
export function defaultSeccompProfile(): SeccompProfile {
  return DEFAULT_PROFILE as SeccompProfile;
}

/** A profile file's text (`--security-opt seccomp=FILE`), checked enough to fail early with a clear message. */
export function parseSeccompProfile(text: string, what: string): SeccompProfile {
  let p: SeccompProfile;
  try {
    p = JSON.parse(text) as SeccompProfile;
  } catch (err) {
    throw new StrataError('USAGE', `${what}: not a JSON seccomp profile: ${(err as Error).message}`, { cause: err });
  }
  if (!p || typeof p !== 'object' || typeof p.defaultAction !== 'string') {
    throw new StrataError('USAGE', `${what}: a seccomp profile needs a "defaultAction"`);
  }
  if (p.syscalls !== undefined && !Array.isArray(p.syscalls)) throw new StrataError('USAGE', `${what}: "syscalls" must be a list`);
  return p;
}
