// Bundles the strata CLI into one CommonJS file (no TypeScript or module resolution at run time)
// and puts the launchers beside it: dist/strata.mjs loads the bundle through V8's code cache,
// dist/strata (the `strata` command) starts it.
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
  // The bundle runs inside vm.Script (for the code cache), where a real import() has no loader:
  // lazy imports (node:https, node:readline, …) become require() calls.
  supported: { 'dynamic-import': false },
  logLevel: 'warning',
});
rmSync(`${dist}strata.cjs.v8cache`, { force: true });
copyFileSync(`${root}tools/cli-launcher.mjs`, `${dist}strata.mjs`);
chmodSync(`${dist}strata.mjs`, 0o755);
// `strata` itself: a shell launcher that keeps NODE_EXTRA_CA_CERTS off node's start-up path.
copyFileSync(`${root}tools/cli-launcher.sh`, `${dist}strata`);
chmodSync(`${dist}strata`, 0o755);
