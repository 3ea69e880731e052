#!/usr/bin/env node
'use strict';
// strata's entry point. It runs the CommonJS bundle beside it through V8's code cache: compiling
// the ~0.7 MB bundle is most of a cold start, and the cache (written once, atomically, beside
// the bundle; skipped silently where that directory is read-only) removes it on later starts.
// CommonJS on purpose: an ES module entry costs node's ESM loader, ~5 ms a start.
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { Script } = require('node:vm');

// No V8 flags here (not even set at run time): node compiles each built-in module loaded after a
// flag change from source, its code cache no longer matching. The registry transport sets the one
// it needs (--liftoff-only) when it is loaded.

// The launcher's malloc tunable is for this process only (see cli-launcher.sh).
if (process.env.STRATA_GLIBC_TUNABLES === 'launcher') {
  delete process.env.GLIBC_TUNABLES;
  delete process.env.STRATA_GLIBC_TUNABLES;
}

const file = `${__dirname}/strata-bundle.cjs`;
const cacheFile = `${file}.v8cache`;
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {}
// latin1: the bundle is ASCII (esbuild escapes the rest; build-cli.mjs checks), and a one-byte
// string is read without UTF-8 decoding.
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'latin1')}\n})`, {
  filename: file,
  cachedData,
});
if (cachedData === undefined || script.cachedDataRejected) {
  // At exit, so the cache also holds the functions this run compiled ('exit', not 'beforeExit':
  // strata ends with process.exit once its output is written).
  process.once('exit', () => {
    try {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    } catch {}
  });
}
const bundle = { exports: {} };
script.runInThisContext()(bundle.exports, require, bundle, file, __dirname);
