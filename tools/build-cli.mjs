// Bundles the strata CLI into one CommonJS file (no TypeScript or module resolution at run time)
// and puts the launcher beside it, which loads the bundle through V8's code cache.
import { build } from 'esbuild';
import { chmodSync, copyFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}dist/`;
await build({
  entryPoints: [`${root}packages/cli/src/main.ts`],
  outfile: `${dist}strata.cjs`,
  bundle: true,
  minify: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
rmSync(`${dist}strata.cjs.v8cache`, { force: true });
copyFileSync(`${root}tools/cli-launcher.mjs`, `${dist}strata.mjs`);
chmodSync(`${dist}strata.mjs`, 0o755);
