// Inputs of the reliability campaign: a store with the busybox base, images built on it, their
// archives, tars of files, and a registry on loopback that holds one of them.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxRootfsTar, runStrata, type CliResult } from '@strata/testing';
import { prng, STABLE_ENV } from './harness';

export const BASE = 'rel/base:1';
export const APP = 'rel/app:1';

/** Run strata on `root` (with the campaign's fixed clock and epoch); throws with its stderr on failure. */
export async function strataOk(root: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const r = await runStrata(args, { root, env: { ...STABLE_ENV, ...env } });
  if (r.code !== 0) throw new Error(`strata ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r;
}

/** `bytes` of deterministic noise (incompressible: layers stay their size when gzipped). */
export function noise(bytes: number, seed: number): Buffer {
  const next = prng(seed);
  const b = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i += 4) b.writeUInt32LE((next() * 0x100000000) >>> 0, i);
  return b;
}

/** A directory of `files` files of `size` bytes each (content from `seed`). */
export function filesDir(dir: string, files: number, size: number, seed: number): string {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < files; i++) writeFileSync(join(dir, `f${i}`), noise(size, seed * 1000 + i));
  return dir;
}

/** A tar of a directory (GNU tar, sorted, numeric owners: the same bytes every time). */
export function tarOf(dir: string, out: string): string {
  execFileSync('tar', ['--sort=name', '--numeric-owner', '--mtime=@1700000000', '-C', dir, '-cf', out, '.']);
  return out;
}

/** The busybox base as BASE (CMD sh). */
export async function importBase(root: string): Promise<void> {
  await strataOk(root, ['image', 'import', '--change', 'CMD ["sh"]', busyboxRootfsTar(), BASE]);
}

/**
 * APP: BASE plus `layers` COPY layers of `files` files of `size` bytes each (built with
 * SOURCE_DATE_EPOCH, so the same everywhere). Returns the build context.
 */
export async function buildApp(root: string, work: string, o: { layers: number; files: number; size: number; tag?: string; seed?: number }): Promise<string> {
  const ctx = join(work, `app-context-${o.seed ?? 1}`);
  const lines = [`FROM ${BASE}`];
  for (let l = 0; l < o.layers; l++) {
    filesDir(join(ctx, `l${l}`), o.files, o.size, (o.seed ?? 1) * 100 + l);
    lines.push(`COPY l${l} /data/l${l}`);
    if (l === 0) lines.push('ENV APP=1');
  }
  lines.push('CMD ["sh"]');
  writeFileSync(join(ctx, 'Dockerfile'), `${lines.join('\n')}\n`);
  await strataOk(root, ['build', '-q', '-t', o.tag ?? APP, ctx]);
  return ctx;
}
