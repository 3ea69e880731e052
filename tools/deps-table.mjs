// Rewrites the two tables of docs/DEPENDENCIES.md from the package.json files: versions and who
// declares each dependency come from the manifests, the "what it does" column is kept from the
// table as it was. A new dependency gets a placeholder that tools/deps.test.ts refuses: describe it.
//   node tools/deps-table.mjs
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const DOC = `${root}docs/DEPENDENCIES.md`;
const PLACEHOLDER = '**say what it does for strata**';

const manifests = [
  ['(root)', JSON.parse(readFileSync(`${root}package.json`, 'utf8'))],
  ...readdirSync(`${root}packages`)
    .filter((p) => existsSync(`${root}packages/${p}/package.json`))
    .sort()
    .map((p) => [`@strata/${p}`, JSON.parse(readFileSync(`${root}packages/${p}/package.json`, 'utf8'))]),
];

const doc = readFileSync(DOC, 'utf8');
const known = new Map();
for (const m of doc.matchAll(/^\| `([^`]+)` \| `[^`]*` \| [^|]* \| (.*) \|$/gm)) known.set(m[1], m[2]);

function table(fields) {
  const by = new Map();
  for (const [who, m] of manifests) {
    for (const field of fields) {
      for (const [dep, version] of Object.entries(m[field] ?? {})) {
        if (dep.startsWith('@strata/')) continue;
        const row = by.get(dep) ?? { version, users: [] };
        row.users.push(who);
        by.set(dep, row);
      }
    }
  }
  const rows = [...by.entries()]
    .sort(([a], [b]) => a.replace(/^@/, '').localeCompare(b.replace(/^@/, '')))
    .map(([dep, r]) => `| \`${dep}\` | \`${r.version}\` | ${r.users.join(', ')} | ${known.get(dep) ?? PLACEHOLDER} |`);
  return ['| dependency | version | declared by | what it does for strata |', '|---|---|---|---|', ...rows].join('\n');
}

writeFileSync(
  DOC,
  doc
    .replace(/(<!-- runtime -->)[\s\S]*?(<!-- \/runtime -->)/, `$1\n${table(['dependencies', 'optionalDependencies', 'peerDependencies'])}\n$2`)
    .replace(/(<!-- dev -->)[\s\S]*?(<!-- \/dev -->)/, `$1\n${table(['devDependencies'])}\n$2`),
);
