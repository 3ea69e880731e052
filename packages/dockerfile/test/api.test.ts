import { isStrataError } from '@strata/errors';
import { describe, expect, it } from 'vitest';
import {
  createLexer,
  dockerfileErrorLine,
  INSTRUCTION_INFO,
  parse,
  parseDockerfile,
  parseMount,
  runHeredocPlan,
  toInstructions,
} from '../src/index';
import type { RunInstruction } from '../src/types';

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('parseMount', () => {
  it('applies BuildKit defaults per type', () => {
    expect(parseMount('type=cache,target=/c')).toMatchObject({ type: 'cache', id: '/c', sharing: 'shared', mode: 0o755, uid: 0, gid: 0, readonly: false });
    expect(parseMount('type=secret,id=npm')).toMatchObject({ type: 'secret', id: 'npm', target: '/run/secrets/npm', mode: 0o400, readonly: true, required: false });
    expect(parseMount('type=secret,id=npm,env=NPM_TOKEN').target).toBeUndefined();
    expect(parseMount('type=ssh', undefined, 2)).toMatchObject({ id: 'default', target: '/run/buildkit/ssh_agent.2', mode: 0o600 });
    expect(parseMount('target=/src')).toMatchObject({ type: 'bind', readonly: true });
    expect(parseMount('type=bind,target=/src,rw=true').readonly).toBe(false);
    expect(parseMount('type=tmpfs,target=/t,size=1g').size).toBe(1024 ** 3);
    expect(parseMount('Type=CACHE,Target=/x,SHARING=Private').sharing).toBe('private');
  });

  it('expands values with an expander at dispatch and defers `$` fields without one', () => {
    const lex = createLexer();
    const env = { CACHE: '/root/.cache', MODE: '0700' };
    const m = parseMount('type=cache,target=$CACHE,mode=$MODE', (w) => lex.processWord(w, env));
    expect(m).toMatchObject({ target: '/root/.cache', id: '/root/.cache', mode: 0o700 });
    const deferred = parseMount('type=cache,target=$CACHE,mode=$MODE');
    expect(deferred).toMatchObject({ target: '$CACHE', mode: 0o755 });
  });

  it('rejects what BuildKit rejects', () => {
    const cases: Array<[string, string]> = [
      ['type=foo', 'unsupported mount type "foo"'],
      ['type=cache,target=/x,sharing=all', 'unsupported sharing value "all"'],
      ['type=bind,target=/x,mode=0700', 'mode not allowed for "bind" type mounts'],
      ['type=bind,target=/x,size=1m', "unexpected key 'size' for mount type 'bind'"],
      ['type=cache,target=/x,required', "unexpected key 'required' for mount type 'cache'"],
      ['type=cache,target', "invalid field 'target' must be a key=value pair"],
      ['type=secret', 'invalid secret mount. one of source, target required'],
      ['type=secret,id=a,source=b', "both source and id can't be set"],
      ['type=cache,target=/x,mode=999', 'invalid value 999 for mode'],
      ['type=bind,from=$X,target=/x', "'$X' doesn't support variable expansion, define alias stage instead"],
      ['type=bind,"target=/x', 'failed to parse csv mounts'],
    ];
    for (const [raw, msg] of cases) {
      const err = errorOf(() => parseMount(raw));
      expect(isStrataError(err, 'DOCKERFILE_SYNTAX')).toBe(true);
      expect(err.message).toContain(msg);
    }
  });
});

describe('runHeredocPlan', () => {
  const doc = (name: string, content: string, chomp = false) => ({ name, content, chomp, expand: true, fileDescriptor: 0 });
  it('runs a lone heredoc as the script, chomped for <<-', () => {
    expect(runHeredocPlan('<<-EOF', [doc('EOF', '\techo a\n', true)])).toEqual({ kind: 'script', script: 'echo a\n' });
  });
  it('writes a #! heredoc to /dev/pipes and runs that file', () => {
    expect(runHeredocPlan('<<"X"', [doc('X', '#!/bin/sh\necho\n')])).toEqual({
      kind: 'file',
      name: 'X',
      path: '/dev/pipes/X',
      data: '#!/bin/sh\necho\n',
      mode: 0o755,
    });
  });
  it('looks for #! after <<- stripped the tabs (BuildKit dispatchRun)', () => {
    expect(runHeredocPlan('<<-X', [doc('X', '\t#!/bin/sh\n\techo\n', true)])).toMatchObject({ kind: 'file', data: '#!/bin/sh\necho\n' });
  });
  it('hands other forms to the shell, bodies appended', () => {
    expect(runHeredocPlan('cat <<A <<B', [doc('A', 'a\n'), doc('B', 'b\n')])).toEqual({ kind: 'shell', text: 'cat <<A <<B\na\nA\nb\nB' });
  });
  it('is undefined without heredocs', () => {
    expect(runHeredocPlan('echo', [])).toBeUndefined();
  });
});

describe('parse / toInstructions', () => {
  it('reports errors with the instruction line and exposes the range', () => {
    const err = errorOf(() => parseDockerfile('FROM scratch\nRUN echo \\\n  --x\nCOPY --nope a b\n', { filename: 'build/Dockerfile.dev' }));
    expect(err.message).toBe('build/Dockerfile.dev:4: unknown flag: --nope');
    expect(dockerfileErrorLine(err)).toEqual({ start: 4, end: 4 });
  });

  it('keeps ONBUILD triggers that do not parse as text only (BuildKit fails in the child build)', () => {
    const r = parseDockerfile('FROM scratch\nONBUILD FOO bar\n');
    const ins = r.stages[0]!.instructions[0]!;
    expect(ins).toMatchObject({ kind: 'onbuild', expression: 'FOO bar' });
    expect('instruction' in ins && ins.instruction).toBeFalsy();
  });

  it('uses baseImageEnv and buildArgs for UndefinedVar', () => {
    const text = 'FROM alpine\nARG V\nENV A=$JAVA_HOME B=$V C=$NOPE\n';
    const unknown = parseDockerfile(text).warnings.filter((w) => w.rule === 'UndefinedVar');
    expect(unknown).toEqual([]);
    const known = parseDockerfile(text, { baseImageEnv: () => ({ JAVA_HOME: '/j', PATH: '/bin' }) }).warnings;
    expect(known.filter((w) => w.rule === 'UndefinedVar').map((w) => w.message)).toEqual(["Usage of undefined variable '$NOPE'"]);
  });

  it('suggests the closest variable name', () => {
    const w = parseDockerfile('FROM scratch\nENV PATH=$PAHT:/app/bin\n').warnings;
    expect(w.map((x) => x.message)).toContain("Usage of undefined variable '$PAHT' (did you mean $PATH?)");
  });

  it('lets the builder expand at dispatch with the recorded escape token', () => {
    const { ast } = parse('# escape=`\nFROM scratch\nENV A=`$HOME B=x\\y\n');
    const env = toInstructions(ast).stages[0]!.instructions[0]!;
    if (env.kind !== 'env') throw new Error('expected ENV');
    const lex = createLexer({ escape: ast.escape });
    expect(env.pairs.map((p) => lex.processWord(p.value, { HOME: '/root' }))).toEqual(['$HOME', 'x\\y']);
  });

  it('keeps the flags BuildKit keeps and exposes the logical line', () => {
    const r = parseDockerfile('FROM scratch\nRUN --mount=type=cache,target=/a \\\n    --network=none make\n');
    const run = r.stages[0]!.instructions[0] as RunInstruction;
    expect(run.original).toBe('RUN --mount=type=cache,target=/a     --network=none make');
    expect(run.flagsUsed).toEqual(['mount', 'network']);
    expect(run.range).toEqual({ start: 2, end: 3 });
  });

  it('describes each instruction for the builder', () => {
    expect(INSTRUCTION_INFO.copy).toMatchObject({ expands: true, heredocs: true, metadataOnly: false });
    expect(INSTRUCTION_INFO.cmd.expands).toBe(false);
    expect(INSTRUCTION_INFO.run.flags).toContain('mount');
  });

  it('filters warnings by # check=skip=all', () => {
    expect(parseDockerfile('# check=skip=all\nFROM scratch AS Bad\nMAINTAINER x\n').warnings).toEqual([]);
  });
});

describe('isValidImageReference (InvalidDefaultArgInFrom)', async () => {
  const { isValidImageReference } = await import('../src/reference-check');
  it.each([
    ['busybox', true],
    ['busybox:1.36', true],
    ['docker.io/library/busybox:latest', true],
    ['localhost:5000/a/b:c', true],
    ['Registry.Example.com/app', true],
    [`busybox@sha256:${'a'.repeat(64)}`, true],
    ['', false],
    ['busybox:', false],
    ['Builder', false],
    ['a//b', false],
    ['a' .repeat(64).replace(/a/g, 'f'), false],
  ])('%s → %s', (ref, ok) => expect(isValidImageReference(ref)).toBe(ok));
});

describe('expandInstruction', async () => {
  const { expandInstruction } = await import('../src/index');
  const stage = (text: string) => parseDockerfile(`FROM scratch\n${text}`).stages[0]!.instructions[0]!;
  const env = { A: 'a', PORTS: '80 443', DIR: '/srv', EMPTY: '' };

  it('expands COPY sources, dest, chown/chmod but not --from/--exclude; heredocs raw', () => {
    const ins = stage('COPY --from=x --chown=$A --exclude=$A "$DIR"/f* <<EOF $DIR/\n"$A" \\$A\nEOF\n');
    const { instruction, unmatched } = expandInstruction(ins, env);
    expect(instruction).toMatchObject({ sources: ['/srv/f*'], dest: '/srv/', chown: 'a', from: 'x', exclude: ['$A'] });
    if (instruction.kind !== 'copy') throw new Error('copy expected');
    expect(instruction.heredocs[0]!.data).toBe('"a" $A\n');
    expect([...unmatched]).toEqual([]);
  });

  it('splits EXPOSE words after expansion and reports unmatched names', () => {
    const { instruction, unmatched } = expandInstruction(stage('EXPOSE $PORTS $NOPE/udp'), env);
    // Sorted as written (BuildKit sorts at parse time), then expanded and split.
    expect(instruction).toMatchObject({ ports: ['/udp', '80', '443'] });
    expect([...unmatched]).toEqual(['NOPE']);
  });

  it('expands ENV pairs against the env before the instruction', () => {
    const { instruction } = expandInstruction(stage('ENV A=b C=$A D="x y"'), env);
    expect(instruction).toMatchObject({ pairs: [{ key: 'A', value: 'b' }, { key: 'C', value: 'a' }, { key: 'D', value: 'x y' }] });
  });

  it('re-parses RUN mounts with the expander', () => {
    const { instruction } = expandInstruction(stage('RUN --mount=type=cache,target=$DIR/cache true'), env);
    expect(instruction).toMatchObject({ mounts: [{ type: 'cache', target: '/srv/cache', id: '/srv/cache' }] });
  });

  it('fails like BuildKit, with the line', () => {
    expect(() => expandInstruction(stage('WORKDIR ${NOPE:?must be set}'), env)).toThrow(
      'Dockerfile:2: failed to process "${NOPE:?must be set}": NOPE: must be set',
    );
    expect(() => expandInstruction(stage('VOLUME $EMPTY'), env)).toThrow('Dockerfile:2: VOLUME specified can not be an empty string');
  });

  it('uses the escape directive token', () => {
    const { ast } = parse('# escape=`\nFROM scratch\nWORKDIR C:\\dir`$A\n');
    const ins = toInstructions(ast).stages[0]!.instructions[0]!;
    expect(expandInstruction(ins, env, { escape: ast.escape }).instruction).toMatchObject({ path: 'C:\\dir$A' });
  });
});

describe('limits', () => {
  it('refuses a physical line over 64 KiB like bufio.Scanner', () => {
    const text = `FROM scratch\nRUN echo ${'x'.repeat(70000)}\n`;
    expect(() => parseDockerfile(text)).toThrow('Dockerfile:2: dockerfile line greater than max allowed size of 65535');
    expect(() => parseDockerfile(`FROM scratch\nRUN echo ${'x'.repeat(60000)}\n`)).not.toThrow();
  });
});

describe('UndefinedVar in RUN --mount values', () => {
  it('checks mount values but not the command', () => {
    const w = parseDockerfile('FROM scratch\nARG CACHE=/c\nRUN --mount=type=cache,target=$CACHE,id=$NOPE echo $ALSO_NOPE\n').warnings;
    expect(w.map((x) => x.message)).toEqual(["Usage of undefined variable '$NOPE'"]);
  });
});
