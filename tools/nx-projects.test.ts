// nx serves test results from its cache only as long as each project's inputs are complete
// (docs/ARCHITECTURE.md, "Tasks and nx"). This checks what a new package or test could forget:
// the project and its three targets, that each test file runs in exactly one project, that the
// files a package's tests read outside it are inputs, and that tests running the CLI bundle
// hash it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const pkgs = readdirSync(join(root, 'packages'), { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(root, 'packages', e.name, 'package.json')))
  .map((e) => e.name);

interface Target {
  command?: string;
  inputs?: unknown[];
}
interface Project {
  name: string;
  tags?: string[];
  namedInputs?: Record<string, unknown[]>;
  targets?: Record<string, Target>;
}
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const nx = readJson<{ neverConnectToCloud?: boolean; namedInputs: Record<string, unknown[]>; targetDefaults: Record<string, Target> }>(
  join(root, 'nx.json'),
);
const projects: Array<[dir: string, project: Project]> = [
  ...pkgs.map((p): [string, Project] => [`packages/${p}`, readJson<Project>(join(root, 'packages', p, 'project.json'))]),
  ['tools', readJson<Project>(join(root, 'tools/project.json'))],
];

function files(dir: string, test: (name: string) => boolean): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p, test));
    else if (test(e.name)) out.push(p);
  }
  return out;
}

/** The files a project's test target hashes from a named input (the project's own, else nx.json's). */
const namedInput = (project: Project, name: string): unknown[] => project.namedInputs?.[name] ?? nx.namedInputs[name] ?? [];

const testCommand = (dir: string, project: Project): string =>
  (project.targets?.test?.command ?? nx.targetDefaults.test!.command!).replaceAll('{projectRoot}', dir);

describe('nx projects', () => {
  it('never calls nx cloud', () => {
    expect(nx.neverConnectToCloud).toBe(true);
  });

  it.each(pkgs)('%s is a project with a tier, its own tsconfig and build, typecheck and test targets', (p) => {
    const dir = join(root, 'packages', p);
    const problems: string[] = [];
    const project = existsSync(join(dir, 'project.json')) ? readJson<Project>(join(dir, 'project.json')) : undefined;
    if (project?.name !== readJson<{ name: string }>(join(dir, 'package.json')).name) problems.push('project.json: "name" is the npm name');
    if (project?.tags?.filter((t) => t.startsWith('tier:')).length !== 1) problems.push('project.json: one "tier:N" tag');
    for (const t of ['build', 'typecheck', 'test']) if (!project?.targets?.[t]) problems.push(`project.json: a "${t}" target ({} takes nx.json's)`);
    const tsconfig = join(dir, 'tsconfig.json');
    if (!existsSync(tsconfig) || !readJson<{ include?: string[] }>(tsconfig).include?.includes('src/**/*.ts')) problems.push('tsconfig.json including "src/**/*.ts"');
    expect(problems, 'copy packages/oci/project.json and tsconfig.json, then set name and tier').toEqual([]);
  });

  it('runs every test file in exactly one project', () => {
    // the root vitest.config.ts includes; a filter selects the files whose path contains it
    const all = [
      ...files(join(root, 'packages'), (n) => n.endsWith('.test.ts')).filter((f) => /^packages\/[^/]+\/(src|test)\//.test(f.slice(root.length))),
      ...files(join(root, 'tools'), (n) => n.endsWith('.test.ts')),
    ].map((f) => f.slice(root.length));
    // `vitest run [--passWithNoTests] [--exclude 'glob/**']… <filter>`
    const selects = projects.map(([dir, project]) => {
      const m = testCommand(dir, project).match(/^vitest run ((?:--\S+(?: '[^']*')? )*)(\S+)$/);
      expect(m, `${dir}: test runs "vitest run <dir>/"`).not.toBeNull();
      const excluded = [...m![1]!.matchAll(/--exclude '([^']*)\*\*'/g)].map((x) => x[1]!);
      return (f: string) => f.includes(m![2]!) && !excluded.some((prefix) => f.startsWith(prefix));
    });
    const wrong = all.filter((f) => selects.filter((select) => select(f)).length !== 1);
    expect(wrong).toEqual([]);
  });

  it.each(projects)('%s: what its tests read outside the project is an input of its test target', (dir, project) => {
    const declared = [...namedInput(project, 'fixtures'), ...namedInput(project, 'cliBundle'), ...nx.namedInputs.testEnv!].filter(
      (x): x is string => typeof x === 'string',
    );
    // the two glob forms used here: `dir/**/*` and a `*` within the last segment
    const covered = (path: string) =>
      declared.some((glob) => {
        const g = glob.replace('{workspaceRoot}/', '');
        if (g.endsWith('/**/*')) return path.startsWith(g.slice(0, -4));
        return new RegExp(`^${g.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`).test(path);
      });
    const missing = new Set<string>();
    // tools/ holds the golden generators and benchmarks too: only its tests count
    const read = dir === 'tools' ? (n: string) => n.endsWith('.test.ts') : (n: string) => /\.(ts|mjs|cjs|js)$/.test(n);
    for (const f of files(join(root, dir), read)) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/test-fixtures\/[\w.-]+/g)) if (!covered(`${m[0]}/`)) missing.add(m[0]);
      if (dir === 'tools') continue; // its own files are inputs already
      for (const m of text.matchAll(/\btools\/[\w.-]+(?:\/[\w.-]+)*\.(?:mjs|cjs|sh|ts|js)\b/g)) if (!covered(m[0])) missing.add(m[0]);
    }
    expect([...missing], 'add them to namedInputs.fixtures in its project.json').toEqual([]);
  });

  it.each(pkgs.filter((p) => p !== 'testing'))('%s hashes the CLI bundle if its tests run it', (p) => {
    const runsBundle = files(join(root, 'packages', p), (n) => n.endsWith('.ts')).some((f) =>
      /\brunStrata\b|\bSTRATA_BIN\b|dist\/strata/.test(readFileSync(f, 'utf8')),
    );
    const project = readJson<Project>(join(root, 'packages', p, 'project.json'));
    const hashesBundle = JSON.stringify(namedInput(project, 'cliBundle')).includes('strata-bundle.cjs');
    expect(hashesBundle, 'namedInputs.cliBundle: [{ "dependentTasksOutputFiles": "**/strata-bundle.cjs" }]').toBe(runsBundle);
  });
});
