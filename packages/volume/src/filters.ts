import { StrataError } from '@strata/errors';
import type { Volume } from './volumes';

export interface VolumeFilter {
  key: 'dangling' | 'label' | 'label!' | 'name' | 'driver';
  value: string;
}

const KEYS = ['dangling', 'label', 'label!', 'name', 'driver'] as const;

/** `--filter key=value` as `volume ls` and `volume prune` take them (`label!=k[=v]` too). */
export function parseVolumeFilters(list: readonly string[], allowed: readonly VolumeFilter['key'][] = KEYS): VolumeFilter[] {
  return list.map((f) => {
    const m = /^(label!|[a-z]+)=(.*)$/s.exec(f);
    const key = m?.[1] as VolumeFilter['key'] | undefined;
    if (!m || !key || !allowed.includes(key)) throw new StrataError('USAGE', `invalid filter "${f}": use ${allowed.map((k) => `${k}=`).join(', ')}`);
    if (key === 'dangling' && !['true', 'false', '1', '0'].includes(m[2])) throw new StrataError('USAGE', `invalid filter "${f}": dangling=true or dangling=false`);
    return { key, value: m[2] };
  });
}

function labelMatch(v: Volume, spec: string): boolean {
  const i = spec.indexOf('=');
  const k = i < 0 ? spec : spec.slice(0, i);
  const labels = v.record.Labels ?? {};
  if (!(k in labels)) return false;
  return i < 0 || labels[k] === spec.slice(i + 1);
}

/**
 * Docker's rules: filters of the same key OR, different keys AND; `dangling` = no container
 * uses the volume; `name` is a substring; `label!` excludes.
 */
export function matchVolume(v: Volume, filters: readonly VolumeFilter[], users: () => string[]): boolean {
  const by = new Map<string, string[]>();
  for (const f of filters) by.set(f.key, [...(by.get(f.key) ?? []), f.value]);
  const test = (key: string, val: string): boolean => {
    switch (key) {
      case 'dangling':
        return (users().length === 0) === (val === 'true' || val === '1');
      case 'label':
        return labelMatch(v, val);
      case 'name':
        return v.name.includes(val);
      case 'driver':
        return val === 'local';
      default:
        return false;
    }
  };
  for (const [key, values] of by) {
    if (key === 'label!') {
      if (values.some((val) => labelMatch(v, val))) return false;
    } else if (!values.some((val) => test(key, val))) return false;
  }
  return true;
}
