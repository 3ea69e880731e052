#!/usr/bin/env node
'use strict';
// strata's entry point. It runs the CommonJS bundle beside it through V8's code cache: compiling
// the ~0.7 MB bundle is most of a cold start, and the cache (written once, atomically, beside
// the bundle; skipped silently where that directory is read-only) removes it on later starts.
// CommonJS on purpose: an ES module entry costs node's ESM loader, ~5 ms a start.
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { Script } = require('node:vm');

// `strata build` lstats every file of its context, on two threads when it is large (see
// packages/context/src/stat-table.ts). A thread takes ~35 ms to start, as long as loading the
// bundle: so one is started here, before that, and runs the first source it is sent. The build
// takes it from `globalThis` or, unused, it ends with the process.
if (commandWord(process.argv.slice(2)) === 'build') {
  try {
    const { Worker } = require('node:worker_threads');
    const spare = new Worker("require('node:worker_threads').parentPort.once('message', (m) => { eval(m.source); });", { eval: true, stdout: false, stderr: false });
    spare.unref();
    spare.on('error', () => {});
    globalThis[Symbol.for('strata.spare-thread')] = spare;
  } catch {}
}

/** The first word of a command line that is not an option or an option's value (as groupsFor in program.ts). */
function commandWord(args) {
  const withValue = ['--root', '--format']; // GLOBAL_WITH_VALUE in packages/cli/src/program.ts
  for (let i = 0; i < args.length; i++) {
    if (withValue.includes(args[i])) i++;
    else if (!args[i].startsWith('-')) return args[i];
  }
  return undefined;
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
