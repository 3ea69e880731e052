import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runStrata } from '@strata/testing';
import { createProgram, GLOBAL_WITH_VALUE, groupsFor, GROUPS_OF_VERB, GROUPS_OF_WORD, loadGroups, VERSION } from '../src/program';
import type { Io } from '../src/runner';

const io: Io = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough(), env: {}, isTTY: false };

/** Every command path with its options and arguments, e.g. `image ls --all,--digests,… [reference]`. */
function tree(cmd: Command, prefix = ''): string[] {
  const out: string[] = [];
  for (const c of cmd.commands) {
    const name = `${prefix}${c.name()}`;
    const opts = c.options.map((o) => o.flags).join(',');
    const args = c.registeredArguments.map((a) => a.name()).join(',');
    out.push(`${name} ${opts} ${args}`, ...tree(c, `${name} `));
  }
  return out;
}

describe('command groups loaded on demand', () => {
  it('the groups of a top-level word define everything under that word', async () => {
    const all = tree(createProgram(io, await loadGroups()));
    for (const word of Object.keys(GROUPS_OF_WORD)) {
      const some = tree(createProgram(io, await loadGroups(GROUPS_OF_WORD[word])));
      const under = (lines: string[]) => lines.filter((l) => l.startsWith(`${word} `)).sort();
      expect(under(some), word).toEqual(under(all));
      expect(under(some).length, word).toBeGreaterThan(0);
    }
    // and every top-level word of the full program is mapped (`help` is commander's own)
    const words = new Set(all.map((l) => l.split(' ')[0]));
    words.delete('help');
    expect([...words].sort()).toEqual(Object.keys(GROUPS_OF_WORD).sort());
  });

  it('the groups of a verb define everything under it, and every verb of such a word is listed', async () => {
    const all = tree(createProgram(io, await loadGroups()));
    for (const [word, verbs] of Object.entries(GROUPS_OF_VERB)) {
      const listed = new Set(all.filter((l) => l.startsWith(`${word} `)).map((l) => l.split(' ')[1]).filter((v) => v !== ''));
      expect([...listed].sort(), word).toEqual(Object.keys(verbs).sort());
      for (const [verb, groups] of Object.entries(verbs)) {
        const some = tree(createProgram(io, await loadGroups(groups)));
        const under = (lines: string[]) => lines.filter((l) => l.startsWith(`${word} ${verb} `)).sort();
        expect(under(some), `${word} ${verb}`).toEqual(under(all));
        expect(groupsFor(['--root', '/x', word, verb, 'arg'])).toEqual(groups);
      }
    }
    // a word alone, an unknown verb or help: all of the word's groups
    expect(groupsFor(['image'])).toEqual(GROUPS_OF_WORD.image);
    expect(groupsFor(['image', 'nosuch'])).toEqual(GROUPS_OF_WORD.image);
    expect(groupsFor(['image', '--help'])).toEqual(GROUPS_OF_WORD.image);
    expect(groupsFor(['--format', 'json', 'image', '-q', 'inspect', 'x'])).toEqual(['inspect']);
  });

  it('finds the word after global options, and loads everything for help or an unknown word', () => {
    expect(groupsFor(['--root', 'image', 'context', 'ls'])).toEqual(['context']);
    expect(groupsFor(['--format', 'json', '-q', 'store', 'check'])).toEqual(['store']);
    expect(groupsFor(['--root=/x', 'build', '.'])).toEqual(['build']);
    const all = groupsFor([]);
    expect(all.length).toBe(new Set(Object.values(GROUPS_OF_WORD).flat()).size); // every group is some word's
    expect(groupsFor(['--help'])).toEqual(all);
    expect(groupsFor(['help', 'image'])).toEqual(all);
    expect(groupsFor(['imgae', 'ls'])).toEqual(all);
    // --version alone: no group; with help, all
    expect(groupsFor(['--version'])).toEqual([]);
    expect(groupsFor(['--root', '/x', '--version'])).toEqual([]);
    expect(groupsFor(['--version', '--help'])).toEqual(all);
  });

  it('strata --version prints the version with no command group loaded', async () => {
    const r = await runStrata(['--version']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${VERSION}\n`);
    expect(r.stderr).toBe('');
  });

});
