// Every error path the CLI can reach here, twice: as people see it (`strata: <one line>`, then
// `hint: …` where the code has a hint) and with --format json (one object naming the code). The
// exit status must be the one that packages/cli/src/errors.ts maps the code to.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StrataError, type ErrorCode } from '@strata/errors';
import { writeTar } from '@strata/tar';
import { readAll } from '@strata/layer';
import { busyboxRootfsTar, cleanupTempDirs, runStrata, tempDir, writeTree } from '@strata/testing';
import { exitCodeOf, hintOf } from '../src/errors';

afterAll(cleanupTempDirs);

interface Case {
  name: string;
  args: (w: Work) => string[];
  input?: (w: Work) => Buffer | string;
  code: ErrorCode;
  /** The message must mention this. */
  mentions?: RegExp;
}

interface Work {
  root: string;
  dir: string;
  hostileTar: Buffer;
}

const ctxWith = (w: Work, name: string, files: Record<string, string>) => writeTree(join(w.dir, name), files);

const CASES: Case[] = [
  { name: 'unknown image', args: () => ['image', 'history', 'no-such-image:1'], code: 'IMAGE_NOT_FOUND', mentions: /no-such-image/ },
  { name: 'bad reference', args: () => ['image', 'tag', 'base:1', 'Not A Ref'], code: 'INVALID_REFERENCE' },
  { name: 'bad output format', args: () => ['--format', 'yaml', 'store', 'check'], code: 'USAGE', mentions: /yaml/ },
  { name: 'unknown filter', args: () => ['image', 'ls', '--filter', 'bogus=1'], code: 'USAGE', mentions: /bogus/ },
  { name: 'compression of a docker archive', args: () => ['image', 'save', '--compress', 'zstd', 'base:1'], code: 'USAGE', mentions: /--compress/ },
  { name: 'load of a missing file', args: (w) => ['image', 'load', '-i', join(w.dir, 'missing.tar')], code: 'NOT_FOUND', mentions: /missing\.tar/ },
  { name: 'load of bytes that are no archive', args: () => ['image', 'load'], input: () => 'definitely not a tar archive\n'.repeat(40), code: 'INVALID_ARCHIVE' },
  { name: 'import of bytes that are no tar', args: () => ['image', 'import', '-', 'junk:1'], input: () => Buffer.alloc(2048, 7), code: 'INVALID_TAR' },
  { name: 'layer apply of a hostile tar', args: (w) => ['layer', 'apply', join(w.dir, 'target')], input: (w) => w.hostileTar, code: 'UNSAFE_PATH', mentions: /\.\.\/escape/ },
  { name: 'image cat of a missing path', args: () => ['image', 'cat', 'base:1', '/no/such/file'], code: 'NOT_FOUND' },
  { name: 'build of a missing context', args: (w) => ['-q', 'build', join(w.dir, 'no-context')], code: 'NOT_FOUND' },
  { name: 'Dockerfile that does not parse', args: (w) => ['-q', 'build', ctxWith(w, 'bad-df', { Dockerfile: 'FROM scratch\nNOTANINSTRUCTION x\n' })], code: 'DOCKERFILE_SYNTAX', mentions: /Dockerfile:2/ },
  { name: 'COPY of a missing source', args: (w) => ['-q', 'build', ctxWith(w, 'no-src', { Dockerfile: 'FROM scratch\nCOPY nothere /x\n' })], code: 'COPY_SOURCE_NOT_FOUND', mentions: /nothere/ },
  // A registry on loopback where nothing listens (tests never reach beyond loopback).
  { name: 'FROM an image of an unreachable registry', args: (w) => ['-q', 'build', ctxWith(w, 'no-base', { Dockerfile: 'FROM 127.0.0.1:9/no-such-base:7\n' })], code: 'NETWORK_ERROR', mentions: /127\.0\.0\.1:9/ },
  { name: 'bad .dockerignore pattern', args: (w) => ['context', 'ls', ctxWith(w, 'bad-ignore', { '.dockerignore': 'a[\n', 'f': 'x' })], code: 'DOCKERIGNORE_SYNTAX' },
  { name: 'bad --secret spec', args: (w) => ['-q', 'build', '--secret', 'nonsense', ctxWith(w, 'secret', { Dockerfile: 'FROM scratch\n' })], code: 'USAGE', mentions: /--secret/ },
  { name: 'bad build platform', args: (w) => ['-q', 'build', '--platform', 'linux', ctxWith(w, 'platform', { Dockerfile: 'FROM scratch\n' })], code: 'USAGE', mentions: /platform/ },
];

function parseTable(stderr: string): { message: string; hint?: string; lines: string[] } {
  const lines = stderr.split('\n').filter((l) => l !== '');
  return { message: lines[0] ?? '', hint: lines[1]?.startsWith('hint: ') ? lines[1].slice('hint: '.length) : undefined, lines };
}

describe('CLI errors: one line, the mapped exit status, a hint where the code has one', () => {
  const w: Work = { root: '', dir: '', hostileTar: Buffer.alloc(0) };
  beforeAll(async () => {
    w.dir = tempDir();
    w.root = join(w.dir, 'root');
    mkdirSync(join(w.dir, 'target'));
    w.hostileTar = await readAll(writeTar([{ path: '../escape', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 1, mtime: 0, data: 'x' }]));
    const r = await runStrata(['image', 'import', busyboxRootfsTar(), 'base:1'], { root: w.root });
    expect(r.code, r.stderr).toBe(0);
  });

  it.each(CASES)('$name → $code', async (c) => {
    const args = c.args(w);
    const input = c.input?.(w);
    const table = await runStrata(args, { root: w.root, input });
    const json = await runStrata(args[0] === '--format' ? args : ['--format', 'json', ...args], { root: w.root, input });
    const want = new StrataError(c.code, '');
    expect(table.code, table.stderr).toBe(exitCodeOf(want));
    // --format json: one object that names the code (a bad --format itself is reported as text).
    let code: ErrorCode = c.code;
    let jsonHint: string | undefined;
    if (args[0] !== '--format') {
      const lines = json.stderr.split('\n').filter(Boolean);
      expect(lines, json.stderr).toHaveLength(1);
      const parsed = JSON.parse(lines[0]) as { error: { code: ErrorCode; message: string; hint?: string } };
      code = parsed.error.code;
      jsonHint = parsed.error.hint;
      expect(code).toBe(c.code);
      expect(json.code).toBe(exitCodeOf(new StrataError(code, '')));
    }
    const t = parseTable(table.stderr);
    expect(t.message).toMatch(/^strata: \S/);
    if (c.mentions) expect(t.message).toMatch(c.mentions);
    // Nothing but the message and the hint.
    expect(t.lines.length, table.stderr).toBe(t.hint === undefined ? 1 : 2);
    const expectedHint = hintOf(new StrataError(code, ''));
    if (expectedHint !== undefined) expect(t.hint ?? '', `a ${code} error without its hint`).not.toBe('');
    if (jsonHint !== undefined) expect(t.hint).toBe(jsonHint);
  });

  it('a usage error commander reports (unknown option) is one line and exit status 2', async () => {
    const r = await runStrata(['image', 'ls', '--no-such-option'], { root: w.root });
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines[0]).toMatch(/^strata: unknown option/);
    expect(lines.length).toBeLessThanOrEqual(2);
  });

  it('the mapping: 2 for failures, 130 for an interrupt, 3 for a bug', () => {
    expect(exitCodeOf(new StrataError('USAGE', 'x'))).toBe(2);
    expect(exitCodeOf(new StrataError('IMAGE_NOT_FOUND', 'x'))).toBe(2);
    expect(exitCodeOf(new StrataError('INTERRUPTED', 'x'))).toBe(130);
    expect(exitCodeOf(Object.assign(new Error('EACCES'), { code: 'EACCES', syscall: 'open' }))).toBe(2);
    expect(exitCodeOf(new TypeError('bug'))).toBe(3);
  });
});
