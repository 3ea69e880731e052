// Enforces DESIGN.md's package tiers: a package imports only from lower tiers, and only what its
// package.json declares. Tests (*.test.ts, test/) may also import @strata/testing.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../packages/', import.meta.url).pathname;
const pkgs = readdirSync(root).filter((d) => statSync(join(root, d)).isDirectory());

function tierOf(name: string): number {
  const tags: string[] = JSON.parse(readFileSync(join(root, name, 'project.json'), 'utf8')).tags;
  const t = tags.find((x) => x.startsWith('tier:'))!.slice(5);
  // `errors` sits below tier 0: every package may throw StrataError.
  return t === 'T' ? 99 : t === 'base' ? -1 : Number(t);
}

function sources(dir: string): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out; // a package skeleton without src/ yet
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.(ts|mts)$/.test(e.name)) out.push(p);
  }
  return out;
}

describe('package tiers', () => {
  it.each(pkgs)('%s imports only lower tiers it declares', (name) => {
    const tier = tierOf(name);
    const declared = Object.keys(JSON.parse(readFileSync(join(root, name, 'package.json'), 'utf8')).dependencies ?? {});
    const problems: string[] = [];
    for (const file of sources(join(root, name, 'src'))) {
      const isTest = /\.test\.ts$/.test(file) || file.includes('/test/');
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from|import\()\s*['"](@strata\/[a-z-]+)/g)) {
        const dep = m[1].slice('@strata/'.length);
        if (dep === name) continue;
        if (isTest && dep === 'testing') continue;
        if (!declared.includes(`@strata/${dep}`)) problems.push(`${file}: imports undeclared @strata/${dep}`);
        else if (tierOf(dep) >= tier) problems.push(`${file}: tier ${tier} imports @strata/${dep} (tier ${tierOf(dep)})`);
      }
    }
    expect(problems).toEqual([]);
  });
});
