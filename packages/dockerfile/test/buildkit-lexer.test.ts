import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { trimSpace } from '../src/go-text';
import { createLexer } from '../src/lexer';

/**
 * BuildKit's shell lexer tables (frontend/dockerfile/shell/envVarTest and wordsTest), read the
 * way BuildKit's lex_test.go reads them and run against strata's lexer. Data and upstream
 * commit: test-fixtures/dockerfile/buildkit/README.md. No row is skipped.
 */
const dir = new URL('../../../test-fixtures/dockerfile/buildkit/shell/', import.meta.url);
const lines = (name: string): string[] => {
  const text = readFileSync(new URL(name, dir), 'utf8');
  return (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n').map((l) => l.replace(/\r$/, ''));
};

/** BuildKit `EnvsFromSlice` on Windows: keys are compared upper-cased (`NormalizeEnvKey`). */
class WindowsEnv extends Map<string, string> {
  override get(key: string): string | undefined {
    return super.get(key.toUpperCase());
  }
}

function envFromSlice(pairs: string[], windows: boolean): Map<string, string> {
  const env = windows ? new WindowsEnv() : new Map<string, string>();
  for (const p of pairs) {
    const eq = p.indexOf('=');
    const [k, v] = eq < 0 ? [p, ''] : [p.slice(0, eq), p.slice(eq + 1)];
    env.set(windows ? k.toUpperCase() : k, v);
  }
  return env;
}

interface EnvVarRow {
  line: number;
  platform: 'A' | 'U' | 'W';
  source: string;
  expected: string;
}

const envVarRows: EnvVarRow[] = [];
lines('envVarTest').forEach((raw, i) => {
  if (raw.startsWith('#')) return;
  const line = trimSpace(raw);
  if (line === '') return;
  const parts = line.split('|');
  if (parts.length !== 3) throw new Error(`envVarTest:${i + 1}: expected 3 fields`);
  const platform = trimSpace(parts[0]!);
  if (platform !== 'A' && platform !== 'U' && platform !== 'W') throw new Error(`envVarTest:${i + 1}: bad platform ${platform}`);
  envVarRows.push({ line: i + 1, platform, source: trimSpace(parts[1]!), expected: trimSpace(parts[2]!) });
});

const ENV_VAR_ENV = ['PWD=/home', 'SHELL=bash', 'KOREAN=한국어', 'NULL='];

describe('BuildKit shell/envVarTest (processWord)', () => {
  it('reads all 230 rows (226 A, 2 U, 2 W)', () => {
    expect(envVarRows).toHaveLength(230);
    expect(envVarRows.filter((r) => r.platform === 'A')).toHaveLength(226);
  });
  // BuildKit runs A+U rows on Unix and A+W rows on Windows, where env names are compared
  // case-insensitively; both passes run here (the W rows differ only in that lookup).
  for (const windows of [false, true]) {
    const env = envFromSlice(ENV_VAR_ENV, windows);
    const rows = envVarRows.filter((r) => r.platform === 'A' || r.platform === (windows ? 'W' : 'U'));
    it.each(rows.map((r) => [`${windows ? 'windows' : 'unix'} line ${r.line}: ${r.source}`, r] as const))('%s', (_, r) => {
      const lex = createLexer({ escape: '\\' });
      if (r.expected === 'error') expect(() => lex.processWord(r.source, env)).toThrow();
      else expect(lex.processWord(r.source, env)).toBe(r.expected);
    });
  }
});

interface WordsRow {
  line: number;
  source: string;
  expected: string[];
  env: string[];
}

const wordsRows: WordsRow[] = [];
{
  const env: string[] = [];
  lines('wordsTest').forEach((line, i) => {
    if (line.startsWith('#')) return;
    if (line.startsWith('ENV ')) {
      env.push(line.slice(3).replace(/^ +/, ''));
      return;
    }
    const parts = line.split('|');
    if (parts.length !== 2) throw new Error(`wordsTest:${i + 1}: expected exactly one |`);
    wordsRows.push({ line: i + 1, source: trimSpace(parts[0]!), expected: parts[1]!.replace(/^ +/, '').split(','), env: [...env] });
  });
}

describe('BuildKit shell/wordsTest (processWords)', () => {
  it('reads all 24 rows', () => expect(wordsRows).toHaveLength(24));
  // Upstream's loop has a second mode (RawQuotes + SkipUnsetEnv) but scans the already
  // exhausted file again, so only this default mode is asserted upstream, and here.
  it.each(wordsRows.map((r) => [`line ${r.line}: ${r.source}`, r] as const))('%s', (_, r) => {
    let got: string[];
    try {
      got = createLexer({ escape: '\\' }).processWords(r.source, envFromSlice(r.env, false));
    } catch {
      got = ['error'];
    }
    expect(got).toEqual(r.expected);
  });
});
