// Bundles the strata CLI into one CommonJS file (no TypeScript or module resolution at run time)
// and puts the launchers beside it: dist/strata.cjs loads the bundle through V8's code cache,
// dist/strata (the `strata` command) starts it.
import { build } from 'esbuild';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// commander requires node:child_process at load time, for executable subcommands strata does not
// have; loading it (with net, dgram and the stream modules) costs every start a few ms. Commander
// gets a stand-in that loads the real module only if spawn is ever called.
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]commander[\\/]/.test(args.importer) ? { path: 'lazy-child-process', namespace: 'strata-lazy' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'strata-lazy' }, () => ({
      contents: "module.exports = { spawn: (...args) => require('node:child_process').spawn(...args) };",
      loader: 'js',
    }));
  },
};
const dist = `${root}dist/`;
// Each file is written beside its final name and renamed over it: a strata started meanwhile (a
// test run going on while this one rebuilds) runs the old files or the new ones, never half of one.
function writeAtomically(file, data, mode) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  if (mode !== undefined) chmodSync(tmp, mode);
  renameSync(tmp, file);
}
mkdirSync(dist, { recursive: true });
const { outputFiles } = await build({
  entryPoints: [`${root}packages/cli/src/main.ts`],
  outfile: `${dist}strata-bundle.cjs`,
  bundle: true,
  minify: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'linked',
  // The bundle runs inside vm.Script (for the code cache), where a real import() has no loader:
  // lazy imports (node:https, node:readline, …) become require() calls.
  supported: { 'dynamic-import': false },
  plugins: [lazyChildProcessForCommander],
  // Native addons cannot be bundled: the bundle requires them from node_modules at run time.
  external: ['zstd-napi', '@napi-rs/xattr', '@node-rs/crc32'],
  // A module that loads a native addon on first use takes `require` here and createRequire(import.meta.url) under vitest.
  logOverride: { 'empty-import-meta': 'silent' },
  // undici carries a licence comment with non-ASCII text: licences go to strata-bundle.cjs.LEGAL.txt
  legalComments: 'external',
  logLevel: 'warning',
  write: false,
});
const bundle = outputFiles.find((f) => f.path.endsWith('.cjs'));
// The launcher reads the bundle as latin1, which equals UTF-8 only for ASCII.
if (bundle.contents.some((byte) => byte > 0x7f)) throw new Error('dist/strata-bundle.cjs is not ASCII');
// the map first: a bundle never names a map older than itself
for (const f of [...outputFiles.filter((o) => o !== bundle), bundle]) writeAtomically(f.path, f.contents);
for (const old of ['strata-bundle.cjs.v8cache', 'strata.mjs', 'strata.cjs.map', 'strata.cjs.v8cache']) rmSync(`${dist}${old}`, { force: true });
writeAtomically(`${dist}strata.cjs`, readFileSync(`${root}tools/cli-launcher.cjs`), 0o755);
// `strata` itself: a shell launcher that keeps NODE_EXTRA_CA_CERTS off node's start-up path.
writeAtomically(`${dist}strata`, readFileSync(`${root}tools/cli-launcher.sh`), 0o755);
