// Every declared dependency is used, and every import is declared (docs/DEPENDENCIES.md).
// "Used" means imported (static, dynamic or require) by a file of the package (src, test, tools),
// or, for a tool, its program run by a script or an nx target, or, for @types/X, X used.
// A package's @strata/* imports must be declared by that package (dependencies, or
// devDependencies for tests): nx builds its project graph from package.json only.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const pkgs = readdirSync(join(root, 'packages'), { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(root, 'packages', e.name, 'package.json')))
  .map((e) => e.name);

/** Dependencies used in a way no import shows, with the reason. Keep it short. */
const USED_WITHOUT_IMPORT: Record<string, string> = {};

interface Manifest {
  name: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const declared = (m: Manifest): string[] =>
  Object.keys({ ...m.dependencies, ...m.devDependencies, ...m.optionalDependencies, ...m.peerDependencies });

function codeFiles(dir: string): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...codeFiles(p));
    else if (/\.(ts|mts|cts|js|mjs|cjs)$/.test(e.name)) out.push(p);
  }
  return out;
}

/** npm package names a file imports (subpaths folded into their package; node built-ins left out). */
function importsOf(file: string): string[] {
  const names: string[] = [];
  for (const { fileName: spec } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
    if (spec.startsWith('.') || spec.startsWith('/') || isBuiltin(spec)) continue;
    const parts = spec.split('/');
    names.push(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
  }
  return names;
}

function importedBy(files: string[]): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const f of files) for (const n of importsOf(f)) by.set(n, [...(by.get(n) ?? []), f.slice(root.length)]);
  return by;
}

/** Every command line the repo runs: npm scripts, nx targets, shell scripts. */
function commandLines(): string {
  const lines: string[] = [];
  for (const m of [readJson<Manifest>(join(root, 'package.json')), ...pkgs.map((p) => readJson<Manifest>(join(root, 'packages', p, 'package.json')))]) {
    lines.push(...Object.values(m.scripts ?? {}));
  }
  const nxFiles = [join(root, 'nx.json'), join(root, 'tools/project.json'), ...pkgs.map((p) => join(root, 'packages', p, 'project.json'))];
  for (const f of nxFiles.filter((f) => existsSync(f))) {
    JSON.stringify(readJson(f), (key, value) => {
      if ((key === 'command' || key === 'commands') && value) lines.push(...[value].flat().map((c) => (typeof c === 'string' ? c : c.command)));
      return value;
    });
  }
  for (const f of [join(root, '.ci/run'), ...readdirSync(join(root, 'tools')).filter((f) => f.endsWith('.sh')).map((f) => join(root, 'tools', f))]) {
    if (existsSync(f)) lines.push(readFileSync(f, 'utf8'));
  }
  return lines.join('\n');
}

function binsOf(dep: string): string[] {
  const manifest = join(root, 'node_modules', dep, 'package.json');
  if (!existsSync(manifest)) return [];
  const bin = readJson<{ bin?: string | Record<string, string> }>(manifest).bin;
  if (bin === undefined) return [];
  return typeof bin === 'string' ? [dep.replace(/^@[^/]+\//, '')] : Object.keys(bin);
}

const tsTypes: string[] = readJson<{ compilerOptions: { types?: string[] } }>(join(root, 'tsconfig.base.json')).compilerOptions.types ?? [];

/** Why `dep` counts as used, or undefined. */
function use(dep: string, imported: Map<string, string[]>, commands: string): string | undefined {
  if (imported.has(dep)) return `imported by ${imported.get(dep)![0]}`;
  if (USED_WITHOUT_IMPORT[dep]) return USED_WITHOUT_IMPORT[dep];
  for (const bin of binsOf(dep)) {
    if (new RegExp(`(^|[\\s;&|(])(npx\\s+)?${bin.replace(/[.+]/g, '\\$&')}(\\s|$)`, 'm').test(commands)) return `runs ${bin}`;
  }
  const typed = dep.match(/^@types\/(.+)$/)?.[1];
  if (typed !== undefined) {
    const target = typed.includes('__') ? `@${typed.replace('__', '/')}` : typed;
    if (tsTypes.includes(typed) || imported.has(target)) return `types for ${target}`;
  }
  return undefined;
}

describe('declared dependencies', () => {
  const commands = commandLines();
  const rootManifest = readJson<Manifest>(join(root, 'package.json'));

  it.each(pkgs)('%s uses every dependency it declares, and declares what it imports', (name) => {
    const manifest = readJson<Manifest>(join(root, 'packages', name, 'package.json'));
    const imported = importedBy(codeFiles(join(root, 'packages', name)));
    const problems: string[] = [];
    // a package with no sources yet (a skeleton) has nothing to import its dependencies with
    const started = existsSync(join(root, 'packages', name, 'src'));
    for (const dep of started ? declared(manifest) : []) {
      if (!use(dep, imported, commands)) problems.push(`declares ${dep} but never imports it`);
    }
    const mine = declared(manifest);
    const available = new Set([...mine, ...declared(rootManifest)]);
    for (const [dep, files] of imported) {
      if (dep === manifest.name) continue;
      if (dep.startsWith('@strata/') && !mine.includes(dep)) problems.push(`${files[0]} imports ${dep}, not in its package.json`);
      else if (!available.has(dep)) problems.push(`${files[0]} imports ${dep}, declared nowhere`);
    }
    expect(problems).toEqual([]);
  });

  it('docs/DEPENDENCIES.md lists and describes every dependency (node tools/deps-table.mjs)', () => {
    const manifests = [rootManifest, ...pkgs.map((p) => readJson<Manifest>(join(root, 'packages', p, 'package.json')))];
    const external = (fields: Array<keyof Manifest>) =>
      [...new Set(manifests.flatMap((m) => fields.flatMap((f) => Object.keys((m[f] as Record<string, string>) ?? {}))))]
        .filter((d) => !d.startsWith('@strata/'))
        .sort();
    const doc = readFileSync(join(root, 'docs/DEPENDENCIES.md'), 'utf8');
    const listed = (section: string) =>
      [...(doc.match(new RegExp(`<!-- ${section} -->([\\s\\S]*?)<!-- /${section} -->`))?.[1] ?? '').matchAll(/^\| `([^`]+)` \|.*\|$/gm)]
        .map((m) => m[1]!)
        .sort();
    expect(listed('runtime')).toEqual(external(['dependencies', 'optionalDependencies', 'peerDependencies']));
    expect(listed('dev')).toEqual(external(['devDependencies']));
    expect(doc).not.toContain('say what it does for strata');
  });

  it('the root uses every dependency it declares', () => {
    const files = [...codeFiles(join(root, 'tools')), ...codeFiles(join(root, 'packages')), join(root, 'vitest.config.ts')];
    const imported = importedBy(files);
    const unused = declared(rootManifest).filter((dep) => !use(dep, imported, commands));
    expect(unused).toEqual([]);
  });
});
