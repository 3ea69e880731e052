import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { build } from 'esbuild';
import { REPO_ROOT } from './cli';

/** Native addons cannot be bundled; a bundled script loads them from the repository's node_modules. */
export const NATIVE_ADDONS = ['zstd-napi', '@napi-rs/xattr', '@node-rs/crc32'];

/**
 * Bundle a TypeScript entry (importing @strata packages) into one ES module that plain `node`
 * runs, for tests that need a second process to kill. It is written under the repository's
 * node_modules/.cache, so the native addons it leaves external resolve from there.
 */
export async function bundleScript(entry: string): Promise<string> {
  const dir = join(REPO_ROOT, 'node_modules', '.cache', 'strata-test-scripts');
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, `${process.pid}-${randomBytes(6).toString('hex')}.mjs`);
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    absWorkingDir: REPO_ROOT,
    nodePaths: [join(REPO_ROOT, 'node_modules')],
    external: NATIVE_ADDONS,
    // CommonJS dependencies bundled into an ES module still call require().
    banner: { js: "import { createRequire as __strataCreateRequire } from 'node:module'; const require = __strataCreateRequire(import.meta.url);" },
    logLevel: 'silent',
  });
  return outfile;
}
