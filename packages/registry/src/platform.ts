import { StrataError } from '@strata/errors';
import type { Descriptor, Index } from '@strata/oci';

export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

/** `linux/arm64/v8` → { os, architecture, variant } (a USAGE error for anything else). */
export function parsePlatformSpec(s: string): PlatformSpec {
  const parts = s.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new StrataError('USAGE', `invalid platform "${s}" (want os/arch[/variant], e.g. linux/arm64)`);
  }
  return { os: parts[0], architecture: parts[1], ...(parts[2] ? { variant: parts[2] } : {}) };
}

export function formatPlatform(p: { os: string; architecture: string; variant?: string }): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** containerd's normalisation: arm64 means arm64/v8, arm means arm/v7; amd64's v1 is no variant. */
function normal(p: PlatformSpec): PlatformSpec {
  const arch = p.architecture === 'aarch64' ? 'arm64' : p.architecture === 'x86_64' ? 'amd64' : p.architecture;
  let variant = p.variant;
  if (arch === 'arm64' && (variant === undefined || variant === '')) variant = 'v8';
  if (arch === 'arm' && (variant === undefined || variant === '')) variant = 'v7';
  if (arch === 'amd64' && variant === 'v1') variant = undefined;
  return { os: p.os, architecture: arch, ...(variant ? { variant } : {}) };
}

function isAttestation(d: Descriptor): boolean {
  return d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' || d.platform?.os === 'unknown';
}

/** The index entry for `want` (arm64 ≡ arm64/v8, arm ≡ arm/v7); an error listing what the index offers. */
export function selectPlatform(index: Index, want: PlatformSpec, what: string): Descriptor {
  const w = normal(want);
  const entries = index.manifests.filter((d) => !isAttestation(d));
  const hit = entries.find((d) => {
    if (!d.platform) return false;
    const p = normal({ os: d.platform.os, architecture: d.platform.architecture, variant: d.platform.variant });
    return p.os === w.os && p.architecture === w.architecture && (p.variant ?? '') === (w.variant ?? '');
  });
  if (hit) return hit;
  const offered = entries.filter((d) => d.platform).map((d) => formatPlatform(d.platform!));
  throw new StrataError('NOT_FOUND', `${what}: no ${formatPlatform(want)} image in the index; it offers ${offered.join(', ') || 'no platforms'}`, {
    hint: 'pick one with --platform',
  });
}
