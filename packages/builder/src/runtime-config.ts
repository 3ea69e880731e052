import type { HealthConfig as DfHealth } from '@strata/dockerfile';
import type { HealthConfig, RuntimeConfig } from '@strata/oci';

/** `K=V` list lookups that keep the order of first definition (Docker's Env semantics). */
export function envToMap(env: readonly string[] | null | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const kv of env ?? []) {
    const i = kv.indexOf('=');
    if (i < 0) m.set(kv, '');
    else m.set(kv.slice(0, i), kv.slice(i + 1));
  }
  return m;
}

export function setEnv(config: RuntimeConfig, key: string, value: string): void {
  const env = [...(config.Env ?? [])];
  const i = env.findIndex((kv) => kv === key || kv.startsWith(`${key}=`));
  if (i >= 0) env[i] = `${key}=${value}`;
  else env.push(`${key}=${value}`);
  config.Env = env;
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Docker's Healthcheck JSON: zero durations and retries are left out. */
export function healthConfig(h: DfHealth): HealthConfig {
  const out: HealthConfig = { Test: h.test };
  if (h.interval) out.Interval = h.interval;
  if (h.timeout) out.Timeout = h.timeout;
  if (h.startPeriod) out.StartPeriod = h.startPeriod;
  if (h.startInterval) out.StartInterval = h.startInterval;
  if (h.retries) out.Retries = h.retries;
  return out;
}

/** `80`, `80/TCP`, `8000-8002/udp` → Docker's port keys (`80/tcp`, one per port of a range). */
export function exposedPorts(word: string): string[] {
  const [portPart, protoPart] = word.split('/', 2);
  const proto = (protoPart ?? 'tcp').toLowerCase();
  const m = /^(\d+)(?:-(\d+))?$/.exec(portPart.includes(':') ? portPart.slice(portPart.lastIndexOf(':') + 1) : portPart);
  if (!m) throw new Error(`invalid containerPort: ${portPart}`);
  const start = Number(m[1]);
  const end = m[2] !== undefined ? Number(m[2]) : start;
  if (end < start || end > 65535) throw new Error(`invalid port range: ${portPart}`);
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  return out;
}
