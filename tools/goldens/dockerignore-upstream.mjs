#!/usr/bin/env node
// Extracts the test data of moby/patternmatcher's own tests and of docker/cli's .dockerignore
// matching tests into test-fixtures/dockerignore/upstream/*.json (data only: strata's harness is
// packages/dockerignore/test/upstream.test.ts). Reads the Go files from git clones at a pinned commit:
//   PATTERNMATCHER_GIT=/path/to/patternmatcher/.git DOCKER_CLI_GIT=/path/to/cli/.git \
//     node tools/goldens/dockerignore-upstream.mjs [patternmatcher-commit] [cli-commit]
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '../../test-fixtures/dockerignore/upstream');
const PM = { repo: 'moby/patternmatcher', git: process.env.PATTERNMATCHER_GIT, commit: process.argv[2] ?? '5a6d8429a19bb6948a372ff19e86fe83599a04b7' };
const CLI = { repo: 'docker/cli', git: process.env.DOCKER_CLI_GIT, commit: process.argv[3] ?? '28f756087eea5fa301f3fbf12b01ae62f91521c2' };
if (!PM.git || !CLI.git) throw new Error('set PATTERNMATCHER_GIT and DOCKER_CLI_GIT to the git directories');

const show = (src, path) => execFileSync('git', ['--git-dir', src.git, 'show', `${src.commit}:${path}`], { encoding: 'utf8' });
const commitOf = (src) => execFileSync('git', ['--git-dir', src.git, 'rev-parse', `${src.commit}^{commit}`], { encoding: 'utf8' }).trim();

// Go string literals: "interpreted" (JSON-compatible for what these tests use) or `raw`.
const STR = String.raw`"(?:[^"\\]|\\.)*"|` + '`[^`]*`';
const goString = (lit) => (lit.startsWith('`') ? lit.slice(1, -1) : JSON.parse(lit));
const goStrings = (list) => [...list.matchAll(new RegExp(STR, 'g'))].map((m) => goString(m[0]));

/** The body of `func name(`…`)` up to the closing brace at column 1. */
function funcBody(src, name) {
  const at = src.indexOf(`func ${name}(`);
  if (at < 0) throw new Error(`no func ${name}`);
  return src.slice(at, src.indexOf('\n}\n', at) + 2);
}

/** The rows of a Go composite literal table between `start` and the next line that is just `}`. */
function tableRows(src, start) {
  const at = src.indexOf(start);
  if (at < 0) throw new Error(`no table ${start}`);
  const body = src.slice(at + start.length, src.indexOf('\n\t}', at));
  return body.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{'));
}

function patternmatcherData() {
  const src = show(PM, 'patternmatcher_test.go');
  const row = (re, l) => {
    const m = re.exec(l);
    if (!m) throw new Error(`unparsed row: ${l}`);
    return m;
  };
  const single = new RegExp(`^\\{(${STR}), (${STR}), (true|false)\\},`);
  const matches = tableRows(src, 'tests := []matchesTestCase{').map((l) => {
    const m = row(single, l);
    return { pattern: goString(m[1]), text: goString(m[2]), pass: m[3] === 'true', ...(l.includes('// weird one') ? { note: 'upstream comment: weird one' } : {}) };
  });
  // appended only where the path separator is not `\`
  for (const l of tableRows(src, 'tests = append(tests, []matchesTestCase{')) {
    const m = row(single, l);
    matches.push({ pattern: goString(m[1]), text: goString(m[2]), pass: m[3] === 'true', note: 'upstream runs it only when runtime.GOOS != "windows"' });
  }
  const multiPattern = tableRows(src, 'multiPatternTests := []multiPatternTestCase{').map((l) => {
    const m = row(new RegExp(`^\\{\\[\\]string\\{(.*?)\\}, (${STR}), (true|false)\\},`), l);
    return { patterns: goStrings(m[1]), text: goString(m[2]), pass: m[3] === 'true' };
  });
  // TestMatch: Go filepath.Match vectors run through the package-level (deprecated) Matches
  const match = tableRows(src, 'var matchTests = []matchTest{').map((l) => {
    const m = row(new RegExp(`^\\{(${STR}), (${STR}), (true|false), (nil|filepath\\.ErrBadPattern)\\},`), l);
    return { pattern: goString(m[1]), s: goString(m[2]), match: m[3] === 'true', err: m[4] === 'nil' ? null : 'ErrBadPattern', ...(l.includes('//') ? { note: `upstream comment: ${l.slice(l.indexOf('//') + 2).trim()}` } : {}) };
  });
  const compile = tableRows(src, 'var compileTests = []compileTestCase{').map((l) => {
    const m = row(new RegExp(`^\\{(${STR}), (\\w+), (${STR}), (${STR})\\},`), l);
    return { pattern: goString(m[1]), matchType: m[2], regexp: goString(m[3]), windowsRegexp: goString(m[4]) };
  });

  // The one-call tests: package-level Matches(file, patterns) with the assertion that follows.
  const calls = [];
  for (const [, name] of src.matchAll(/^func (Test\w+)\(t \*testing\.T\) \{$/gm)) {
    const body = funcBody(src, name);
    const call = new RegExp(`:?= Matches\\((${STR}), \\[\\]string\\{(.*?)\\}\\)`).exec(body);
    if (!call || /tests|range/.test(body)) continue;
    let expect;
    if (/if !match \{|if !matches \{/.test(body)) expect = true;
    else if (/if match \{|if matches \{/.test(body) && !/err == nil/.test(body)) expect = false;
    if (/if err == nil \{/.test(body)) expect = 'error';
    if (expect === undefined) throw new Error(`no assertion found in ${name}`);
    calls.push({ test: name, call: 'Matches', file: goString(call[1]), patterns: goStrings(call[2]), expect });
  }

  // New(patterns) and what the test checks of the result.
  const clean = [];
  for (const [, name] of src.matchAll(/^func (TestCleanPatterns\w*)\(t \*testing\.T\) \{$/gm)) {
    const body = funcBody(src, name);
    const patterns = goStrings(/patterns := \[\]string\{(.*?)\}/.exec(body)[1]);
    const c = { test: name, patterns };
    const len = /len\(cleaned\) != (\d+)/.exec(body);
    if (len) c.count = Number(len[1]);
    if (/!pm\.Exclusions\(\)/.test(body)) c.exclusions = true;
    if (/if err == nil \{/.test(body)) c.error = true;
    clean.push(c);
  }

  const noPanic = funcBody(src, 'TestMatchesOrParentMatchesMalformedPatternDoesNotPanicOnRepeatedCall');
  const malformed = [{
    test: 'TestMatchesOrParentMatchesMalformedPatternDoesNotPanicOnRepeatedCall',
    patterns: goStrings(/New\(\[\]string\{(.*?)\}\)/.exec(noPanic)[1]),
    file: goString(new RegExp(`MatchesOrParentMatches\\((${STR})\\)`).exec(noPanic)[1]),
    newError: false,
    matchError: 'ErrBadPattern',
    calls: (noPanic.match(/pm\.MatchesOrParentMatches\(/g) ?? []).length,
  }];

  const ig = show(PM, 'ignorefile/ignorefile_test.go');
  const content = /const content = `([^`]*)`/.exec(ig)[1];
  const expected = goStrings(/expected := \[\]string\{([\s\S]*?)\n\t\}/.exec(ig)[1].replace(/\/\/.*$/gm, ''));
  const ignorefile = [
    { test: 'TestReadAll', input: null, patterns: [], note: 'ReadAll(nil): no reader' },
    { test: 'TestReadAll', input: content, patterns: expected },
  ];
  return { matches, multiPattern, match, compile, calls, clean, malformed, ignorefile };
}

function dockerCliData() {
  const path = 'cli/command/image/build/context_test.go';
  const src = show(CLI, path);
  const cases = [];
  for (const [, name] of src.matchAll(/^func (Test\w+)\(t \*testing\.T\) \{$/gm)) {
    const body = funcBody(src, name);
    const call = new RegExp(`filepathMatches\\(mustPatternMatcher\\(t, \\[\\]string\\{(.*?)\\}\\), (${STR})\\)`).exec(body);
    if (!call) continue;
    const expect = /if !match \{/.test(body) ? true : /if match \{|if matches \{/.test(body) ? false : undefined;
    if (expect === undefined) throw new Error(`no assertion found in ${name}`);
    cases.push({ test: name, call: 'filepathMatches', patterns: goStrings(call[1]), file: goString(call[2]), expect });
  }
  return { path, cases };
}

const pm = patternmatcherData();
const cli = dockerCliData();
const pmCommit = commitOf(PM);
const cliCommit = commitOf(CLI);
const json = (v) => `${JSON.stringify(v, null, 1)}\n`;
writeFileSync(join(out, 'patternmatcher.json'), json({
  upstream: { repo: PM.repo, commit: pmCommit, file: 'patternmatcher_test.go' },
  generatedBy: 'tools/goldens/dockerignore-upstream.mjs',
  matches: pm.matches,
  multiPattern: pm.multiPattern,
  calls: pm.calls,
  clean: pm.clean,
  match: pm.match,
  compile: pm.compile,
  malformed: pm.malformed,
}));
writeFileSync(join(out, 'ignorefile.json'), json({
  upstream: { repo: PM.repo, commit: pmCommit, file: 'ignorefile/ignorefile_test.go' },
  generatedBy: 'tools/goldens/dockerignore-upstream.mjs',
  cases: pm.ignorefile,
}));
writeFileSync(join(out, 'docker-cli.json'), json({
  upstream: { repo: CLI.repo, commit: cliCommit, file: cli.path },
  generatedBy: 'tools/goldens/dockerignore-upstream.mjs',
  cases: cli.cases,
}));
const counts = { matches: pm.matches.length, multiPattern: pm.multiPattern.length, calls: pm.calls.length, clean: pm.clean.length, match: pm.match.length, compile: pm.compile.length, malformed: pm.malformed.length, ignorefile: pm.ignorefile.length, dockerCli: cli.cases.length };
process.stderr.write(`${JSON.stringify(counts)}\n`);
