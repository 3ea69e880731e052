// Regenerates test-fixtures/dockerfile/<case>/expected.json (or error.txt) from the parser.
// Only run after checking each case by hand against BuildKit's behaviour (see README of
// packages/dockerfile); the golden test then keeps the parser from drifting. These goldens are
// the parser's own output: the real check is BuildKit's test data in
// test-fixtures/dockerfile/buildkit/ (run by packages/dockerfile/test/buildkit-*.test.ts), which
// this script never writes (that folder has no Dockerfile of its own, so it is skipped).
//   node tools/goldens/dockerfile.mjs            # all cases
//   node tools/goldens/dockerfile.mjs case1 …    # some
import { build } from 'esbuild';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'strata-df-goldens-'));
const outfile = join(dir, 'dockerfile.mjs');
await build({
  entryPoints: [join(root, 'packages/dockerfile/src/golden.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  logLevel: 'warning',
});
const { goldenOf } = await import(pathToFileURL(outfile).href);
rmSync(dir, { recursive: true, force: true });

const fixtures = join(root, 'test-fixtures/dockerfile');
const only = process.argv.slice(2);
for (const name of readdirSync(fixtures).sort()) {
  if (only.length > 0 && !only.includes(name)) continue;
  const file = join(fixtures, name, 'Dockerfile');
  if (!existsSync(file)) continue;
  const golden = goldenOf(readFileSync(file, 'utf8'));
  for (const f of ['expected.json', 'error.txt']) rmSync(join(fixtures, name, f), { force: true });
  if ('error' in golden) writeFileSync(join(fixtures, name, 'error.txt'), golden.error + '\n');
  else writeFileSync(join(fixtures, name, 'expected.json'), JSON.stringify(golden.expected, null, 2) + '\n');
  console.log(`${'error' in golden ? 'error ' : 'ok    '} ${name}`);
}
