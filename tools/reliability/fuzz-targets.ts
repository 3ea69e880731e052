// Every parser strata runs on input it did not write, with the property the campaign holds them
// to (issue 18, item 1): each input ends in a result or a StrataError with a code and a one-line
// message (rendered without control characters), within a time bound, and nothing is written
// outside the directory it was given. Inputs are generated (fast-check) and mutated from real
// ones: the Dockerfiles, .dockerignore patterns, templates and layers of test-fixtures/, tars GNU
// tar wrote, images and registry answers as Docker and a registry give them.
//
// The same targets serve the quick run in CI (fuzz.test.ts) and the long run (fuzz.mjs); each
// runs in a worker thread (fuzz-worker.ts) that is ended when one input takes too long.
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { ERROR_CODES, StrataError, type ErrorCode } from '@strata/errors';
import { parseDockerfile, createLexer } from '@strata/dockerfile';
import { createMatcher, readIgnoreFile } from '@strata/dockerignore';
import { compileTemplate, inspectTemplateValue, renderInspect, type DockerImageInspect } from '@strata/inspect';
import { applyLayer, openTarFile, readTar, tarFileBytes, writeTar, type TarWriteEntry } from '@strata/tar';
import {
  formatReference, normalizeReference, parseImageConfig, parseIndex, parseManifest, parseReference, sha256, validateDescriptor,
} from '@strata/oci';
import { loadImages } from '@strata/image';
import { openDistribution, openStore } from '@strata/image-store';
import { inspectRemote, openRegistries, parseChallenges, pullImage, selectPlatform, type HttpResponse, type Transport } from '@strata/registry';
// function-level registry parts the package does not export
import { openSession, registryMessage } from '../../packages/registry/src/auth';
import { formatError } from '../../packages/cli/src/errors';
import { HOSTILE_CASES } from '../../packages/tar/test/hostile-tars';
import { END, gnuLong, member, mutatedBytes, mutatedJson, mutatedJsonText, mutatedText, pax } from './craft';
import { honest, isLoopbackHost, servedImage, startHostileRegistry, watchConnections, type Reply } from './hostile-registry';

/** A broken property: what the fuzzer reports (never an expected parse error). */
export class Violation extends Error {
  override name = 'Violation';
}

// Control characters a terminal acts on (all C0 but tab and newline, DEL, C1).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/**
 * The outcome of an input that threw: its code, when it is a StrataError of an expected code with
 * a one-line message that renders as one line without control characters; otherwise a Violation.
 */
export function outcomeOf(err: unknown, codes?: readonly ErrorCode[]): string {
  if (err instanceof Violation) throw err;
  if (!(err instanceof StrataError)) {
    const e = err as Error;
    throw new Violation(`uncaught ${e?.name ?? typeof err}: ${String(e?.message ?? err).slice(0, 300)}\n${e?.stack ?? ''}`);
  }
  if (!(err.code in ERROR_CODES)) throw new Violation(`unknown code ${err.code}`);
  if (!err.message || /[\r\n]/.test(err.message)) throw new Violation(`${err.code}: the message is not one line: ${JSON.stringify(err.message.slice(0, 400))}`);
  const shown = formatError(err);
  if (CONTROL.test(shown.replace(/\n/g, ''))) throw new Violation(`${err.code}: the rendered error carries control characters: ${JSON.stringify(shown.slice(0, 400))}`);
  if (codes && !codes.includes(err.code)) throw new Violation(`unexpected code ${err.code}: ${err.message.slice(0, 300)}`);
  return err.code;
}

async function settle(work: () => unknown, codes?: readonly ErrorCode[]): Promise<string> {
  try {
    await work();
    return 'ok';
  } catch (err) {
    return outcomeOf(err, codes);
  }
}

export interface FuzzContext {
  /** The repository (seeds are read from test-fixtures/). */
  repo: string;
  /** A private scratch directory for this target, removed afterwards. */
  scratch: string;
}

export interface Prepared<I> {
  arbitrary: fc.Arbitrary<I>;
  /** Run one input: 'ok' or the error code; throws a Violation when a property breaks. */
  run(input: I): Promise<string>;
  teardown?(): Promise<void>;
}

export interface FuzzTarget {
  name: string;
  /** What is fuzzed, for the report. */
  parser: string;
  /** The longest one input may take (the watchdog's bound is a multiple of it). */
  limitMs: number;
  /** Inputs per quick run relative to the others (slow targets run fewer). */
  weight: number;
  prepare(ctx: FuzzContext): Promise<Prepared<unknown>>;
}

const target = <I>(t: Omit<FuzzTarget, 'prepare'> & { prepare(ctx: FuzzContext): Promise<Prepared<I>> }): FuzzTarget => t as FuzzTarget;

function filesUnder(dir: string, keep: (name: string) => boolean, max = 400): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (out.length >= max) return;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && keep(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Feed bytes in chunks of the given sizes (readers must not care where chunks end). */
async function* chunked(bytes: Buffer, sizes: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = Math.max(1, sizes.length ? sizes[i % sizes.length] : bytes.length);
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

const chunkSizes = fc.oneof(fc.constant([] as number[]), fc.array(fc.integer({ min: 1, max: 1500 }), { minLength: 1, maxLength: 6 }));

async function tarOf(entries: TarWriteEntry[]): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const c of writeTar(entries)) out.push(c);
  return Buffer.concat(out);
}

const T0 = 1_700_000_000;
const E = {
  dir: (path: string): TarWriteEntry => ({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: T0 }),
  file: (path: string, data = 'x\n', extra: Partial<TarWriteEntry> = {}): TarWriteEntry => ({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, size: Buffer.byteLength(data), mtime: T0, data, ...extra }),
  sym: (path: string, linkname: string): TarWriteEntry => ({ path, type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtime: T0, linkname }),
  hard: (path: string, linkname: string): TarWriteEntry => ({ path, type: 'hardlink', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: T0, linkname }),
};

/**
 * Real layer tars: what GNU tar writes in each of its formats (ustar, gnu with long names, pax
 * with long names and xattrs, v7) for a small tree with a symlink, a hardlink and a whiteout; the
 * layers of a test fixture Docker wrote; and strata's own writer's.
 */
async function realTars(ctx: FuzzContext): Promise<Buffer[]> {
  const src = join(ctx.scratch, 'tree');
  mkdirSync(join(src, 'etc', 'deep'), { recursive: true });
  writeFileSync(join(src, 'etc', 'motd'), 'hello\n');
  writeFileSync(join(src, 'etc', 'deep', `${'n'.repeat(120)}.txt`), 'long name\n');
  writeFileSync(join(src, '.wh.gone'), '');
  execFileSync('ln', ['-s', '../etc/motd', join(src, 'etc', 'link')]);
  execFileSync('ln', [join(src, 'etc', 'motd'), join(src, 'etc', 'hard')]);
  const out: Buffer[] = [];
  for (const format of ['gnu', 'pax', 'ustar', 'v7']) {
    try {
      out.push(execFileSync('tar', ['--format', format, '--sort=name', '--mtime=@1700000000', '--owner=0', '--group=0', '-C', src, '-c', '.'], { maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'ignore'] }));
    } catch (err) {
      // ustar and v7 cannot hold the 120-character name: tar still writes the rest and exits 2
      const partial = (err as { stdout?: Buffer }).stdout;
      if (partial?.length) out.push(partial);
    }
  }
  for (const f of filesUnder(join(ctx.repo, 'test-fixtures/build/77-layer-under-lower-symlink/base'), (n) => n.endsWith('.tar'))) out.push(readFileSync(f));
  out.push(
    await tarOf([
      E.dir('a'),
      E.file('a/f', 'data'),
      E.sym('a/l', '/etc'),
      E.hard('a/h', 'a/f'),
      E.file('a/.wh.x', ''),
      E.file('a/.wh..wh..opq', ''),
      E.file(`${'p'.repeat(150)}/q`, 'pax path'),
      { ...E.file('x', 'xattr'), xattrs: { 'user.k': Buffer.from([0, 1, 2, 255]) } },
      { ...E.file('t', 'sub-second'), mtime: T0 + 0.25 },
    ]),
  );
  return out;
}

/** Tar members an attacker composes: escapes, links aimed outside, bogus sizes, PAX and GNU records. */
function hostileMembers(outside: string): fc.Arbitrary<Buffer> {
  const name = fc.constantFrom(
    'a', 'a/b', 'a/b/c', 'l', 'l/x', 'l/../x', 'r/x', '../x', '../../outside/victim', '/abs', `${outside}/x`, `${outside.slice(1)}/x`, '//x', './a', '.', './',
    'a/../../x', `${'x'.repeat(120)}/y`, 'a/.wh.b', 'a/.wh..wh..opq', '.wh.l', '.wh..wh..opq', 'a/.wh...', 'h', 'd/', 'é/ü', 'a\\b', 'a\u0000b',
  );
  const link = fc.constantFrom('/', outside, `${outside}/victim`, '../outside', '../../..', '..', '.', 'a', 'a/b', 'l', 'l/x', '/etc/passwd', '', 'h', 'x'.repeat(200));
  const one = fc.oneof(
    fc.tuple(name, fc.string({ maxLength: 20 })).map(([n, d]) => member({ name: n, type: '0' }, d)),
    name.map((n) => member({ name: n, type: '5', mode: 0o755 })),
    fc.tuple(name, link).map(([n, l]) => member({ name: n, type: '2', linkname: l })),
    fc.tuple(name, link).map(([n, l]) => member({ name: n, type: '1', linkname: l })),
    fc.tuple(name, fc.constantFrom('3', '4', '6', '7', 'S', 'V', 'D', 'Z', '\0')).map(([n, t]) => member({ name: n, type: t, devmajor: 1, devminor: 3 })),
    fc.tuple(name, fc.oneof(fc.nat(1 << 20), fc.constant(2 ** 33), fc.constant(2 ** 40))).map(([n, size]) => member({ name: n, type: '0', sizeField: Buffer.from(`${size.toString(8).padStart(11, '0')}\0`) }, 'short')),
    fc.tuple(name, fc.constantFrom(Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0]), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), Buffer.from('   12   \0\0\0\0'), Buffer.from('9999999999\0\0'))).map(([n, f]) =>
      member({ name: n, type: '0', sizeField: f }, 'x'.repeat(16)),
    ),
    fc.tuple(fc.dictionary(fc.constantFrom('path', 'linkpath', 'size', 'uid', 'gid', 'mtime', 'atime', 'uname', 'SCHILY.xattr.user.x', 'SCHILY.xattr.trusted.overlay.opaque', 'GNU.sparse.size', 'comment'), fc.oneof(name, link, fc.constantFrom('-1', '1e400', 'NaN', '0x10', '99999999999999999999', '1.5', '')), { maxKeys: 3 }), fc.boolean(), name).map(([recs, global, n]) =>
      Buffer.concat([pax(recs, global), member({ name: n, type: '0' }, 'after pax')]),
    ),
    fc.constantFrom('10 path=a\n', '999999 path=x\n', 'x path=y\n', '5 a\n', '0 \n', '3 =\n', '18446744073709551616 path=a\n').map((raw) => Buffer.concat([pax(raw), member({ name: 'after', type: '0' }, 'y')])),
    fc.tuple(fc.constantFrom<'L' | 'K'>('L', 'K'), fc.oneof(name, link, fc.constant('z'.repeat(5000)))).map(([k, v]) => Buffer.concat([gnuLong(k, v), member({ name: 'short', type: k === 'K' ? '2' : '0', linkname: 'short-target', magic: 'gnu' }, 'g')])),
  );
  return fc.tuple(fc.array(one, { minLength: 1, maxLength: 8 }), fc.boolean()).map(([ms, end]) => Buffer.concat([...ms, end ? END : Buffer.alloc(0)]));
}

/** What a sandbox's outside looks like: the listing of each level above the target and the victim file's identity. */
function outsideState(sandbox: string): string {
  const parts: string[] = [];
  for (const d of [sandbox, join(sandbox, 'a'), join(sandbox, 'a', 'b'), join(sandbox, 'outside')]) parts.push(`${d}: ${readdirSync(d).sort().join(',')}`);
  const v = lstatSync(join(sandbox, 'outside', 'victim'));
  parts.push(`victim ${v.mode} ${v.nlink} ${v.size} ${v.mtimeMs} ${readFileSync(join(sandbox, 'outside', 'victim'), 'utf8')}`);
  return parts.join('\n');
}

function makeSandbox(scratch: string): { sandbox: string; target: string; outside: string; before: string } {
  const sandbox = mkdtempSync(join(scratch, 'sb-'));
  const target = join(sandbox, 'a', 'b', 'target');
  mkdirSync(target, { recursive: true });
  mkdirSync(join(sandbox, 'outside'));
  writeFileSync(join(sandbox, 'outside', 'victim'), 'safe\n');
  return { sandbox, target, outside: join(sandbox, 'outside'), before: outsideState(sandbox) };
}

function emptyDir(d: string): void {
  for (const n of readdirSync(d)) rmSync(join(d, n), { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------

const dockerfile = target<string>({
  name: 'dockerfile',
  parser: '@strata/dockerfile parseDockerfile (parse → AST → typed instructions)',
  limitMs: 2000,
  weight: 3,
  async prepare(ctx) {
    const seeds = filesUnder(join(ctx.repo, 'test-fixtures/dockerfile'), (n) => n.startsWith('Dockerfile') || n.endsWith('.dockerfile'))
      .map((f) => readFileSync(f, 'utf8'))
      .filter((t) => t.length < 8000);
    const words = ['FROM', 'RUN', 'COPY', 'ADD', 'ENV', 'ARG', 'ONBUILD', 'HEALTHCHECK', 'SHELL', '--mount=type=secret,id=x', '--from=0', '--chmod=777', '--link', '# escape=`', '# syntax=x', '# check=skip=all', '<<EOF', '<<-"E"', '["a",', '$A', '${A:-b}', '${A:?err}', '${A/x/y}'];
    const fragments = fc.array(fc.constantFrom(...words, '\n', ' ', '\\', 'x', '"'), { maxLength: 40 }).map((p) => p.join(' ').replace(/ ?\n ?/g, '\n'));
    return {
      arbitrary: fc.oneof({ weight: 4, arbitrary: mutatedText(seeds, words) }, { weight: 1, arbitrary: fragments }),
      run: (text) => settle(() => parseDockerfile(text), ['DOCKERFILE_SYNTAX']),
    };
  },
});

const lexer = target({
  name: 'dockerfile-lexer',
  parser: '@strata/dockerfile createLexer processWords / processWord ($VAR expansion, quotes, escapes)',
  limitMs: 1000,
  weight: 2,
  async prepare() {
    const unit = fc.constantFrom('$', '{', '}', ':', '-', '+', '?', '#', '%', '%%', '##', '/', '//', '\\', "'", '"', 'A', 'b', ' ', '*', '\n', '`', '[', ']', '^', ',');
    return {
      arbitrary: fc.record({
        word: fc.oneof(fc.string({ unit, maxLength: 60 }), mutatedText(['${A:-${b:+x}}', '"$A" \'$b\' \\$c', '${A%%x*}${b#?}', '${A/a/b}${A//a}', 'a\\ b "c d"'])),
        escape: fc.constantFrom('\\', '`'),
        raw: fc.boolean(),
        words: fc.boolean(),
      }),
      run: ({ word, escape, raw, words }) =>
        settle(() => {
          const lex = createLexer({ escape, rawQuotes: raw });
          const env = { A: 'x y', b: '', c: 'aaaa' };
          return words ? lex.processWordsWithMatches(word, env) : lex.processWordWithMatches(word, env);
        }, ['DOCKERFILE_SYNTAX']),
    };
  },
});

const dockerignore = target({
  name: 'dockerignore',
  parser: '@strata/dockerignore readIgnoreFile → createMatcher → matches / matchInDir',
  limitMs: 1000,
  weight: 2,
  async prepare(ctx) {
    const doc = JSON.parse(readFileSync(join(ctx.repo, 'test-fixtures/dockerignore/conformance.json'), 'utf8')) as { cases: Array<{ patterns: string[]; path: string }> };
    const seeds = doc.cases.map((c) => c.patterns.join('\n'));
    const paths = [...new Set(doc.cases.map((c) => c.path))];
    const seg = fc.constantFrom('a', 'b', 'ab', '.x', 'node_modules', 'é', 'a\nb', '*', '[', '\\', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
    return {
      arbitrary: fc.record({
        text: fc.oneof(mutatedText(seeds, ['**', '**/', '[a-', '[^', '\\', '!', '#', '?', '[!]'])),
        paths: fc.array(fc.oneof(fc.constantFrom(...paths), fc.array(seg, { minLength: 1, maxLength: 6 }).map((s) => s.join('/'))), { minLength: 1, maxLength: 5 }),
      }),
      run: ({ text, paths }) =>
        settle(() => {
          const m = createMatcher(readIgnoreFile(text));
          for (const p of paths) {
            const parts = p.split('/');
            let info;
            for (let i = 1; i <= parts.length; i++) info = m.matchInDir(parts.slice(0, i).join('/'), info).info;
            m.matches(p);
            m.canSkipDir(p);
          }
        }, ['DOCKERIGNORE_SYNTAX']),
    };
  },
});

const goTemplate = target<string>({
  name: 'go-template',
  parser: '@strata/inspect compileTemplate + renderInspect (Go text/template with Docker functions)',
  limitMs: 2000,
  weight: 3,
  async prepare(ctx) {
    const dirs = ['base', 'meta', 'multi', 'scratch', 'legacy'];
    const seeds: string[] = [];
    for (const d of dirs) {
      const f = join(ctx.repo, 'test-fixtures/inspect', d, 'formats.json');
      for (const c of JSON.parse(readFileSync(f, 'utf8')) as Array<{ template: string }>) seeds.push(c.template);
    }
    const inspect = JSON.parse(readFileSync(join(ctx.repo, 'test-fixtures/inspect/base/inspect.json'), 'utf8')) as DockerImageInspect | DockerImageInspect[];
    const item = Array.isArray(inspect) ? inspect[0] : inspect;
    const typed = inspectTemplateValue(item);
    const words = ['{{', '}}', '{{-', '-}}', '{{/*', '*/}}', '.Config', '.RootFS.Layers', '$x', ':=', '=', '|', '(', ')', 'range', 'if', 'else', 'end', 'with', 'break', 'continue', 'len', 'index', 'slice', 'printf', 'json', 'pad', 'truncate', 'split', 'join', '"%v"', '`raw`', "'c'", '1e9', '-1', 'nil'];
    const nested = fc.nat(3000).map((n) => `{{${'('.repeat(n)}.${')'.repeat(n)}}}`);
    const blocks = fc.nat(3000).map((n) => `${'{{if .}}'.repeat(n)}x${'{{end}}'.repeat(n)}`);
    return {
      arbitrary: fc.oneof({ weight: 8, arbitrary: mutatedText(seeds, words) }, { weight: 1, arbitrary: nested }, { weight: 1, arbitrary: blocks }),
      run: (src) =>
        settle(() => {
          const tpl = compileTemplate(src);
          renderInspect(tpl, [{ typed, raw: item }]);
        }, ['USAGE']),
    };
  },
});

const tarRead = target({
  name: 'tar-read',
  parser: '@strata/tar readTar (streamed, any chunking), openTarFile (positioned reads) and tarFileBytes (headers only), compared',
  limitMs: 2000,
  weight: 4,
  async prepare(ctx) {
    const seeds = await realTars(ctx);
    const outside = join(ctx.scratch, 'outside');
    const file = join(ctx.scratch, 'input.tar');
    return {
      arbitrary: fc.record({ tar: fc.oneof({ weight: 3, arbitrary: mutatedBytes(seeds) }, { weight: 2, arbitrary: hostileMembers(outside) }), sizes: chunkSizes }),
      async run({ tar, sizes }) {
        const streamed: string[] = [];
        const a = await settle(async () => {
          for await (const { entry, body } of readTar(chunked(tar, sizes))) {
            if (entry.path.startsWith('/') || entry.path.split('/').includes('..')) throw new Violation(`readTar handed out an unclean path ${JSON.stringify(entry.path)}`);
            if (!Number.isSafeInteger(entry.size) || entry.size < 0) throw new Violation(`entry ${JSON.stringify(entry.path)} has size ${entry.size}`);
            let n = 0;
            for await (const c of body) n += c.length;
            if (n !== entry.size) throw new Violation(`entry ${JSON.stringify(entry.path)}: body of ${n} bytes for size ${entry.size}`);
            streamed.push(`${entry.type} ${entry.path} ${entry.size} ${entry.linkname ?? ''}`);
          }
        }, ['INVALID_TAR', 'UNSAFE_PATH', 'UNSUPPORTED']);
        writeFileSync(file, tar);
        const indexed: string[] = [];
        let fileBytes = 0;
        const b = await settle(() => {
          const c = openTarFile(file);
          try {
            for (let x = c.next(); x; x = c.next()) {
              indexed.push(`${x.entry.type} ${x.entry.path} ${x.entry.size} ${x.entry.linkname ?? ''}`);
              if (x.entry.type === 'file') fileBytes += x.entry.size;
            }
          } finally {
            c.close();
          }
        }, ['INVALID_TAR', 'UNSAFE_PATH', 'UNSUPPORTED']);
        // the lean header scan (a layer's size) reads every tar the full reader reads, to the same sum
        let scanned: number | undefined;
        const c = await settle(() => {
          scanned = tarFileBytes(file);
        }, ['INVALID_TAR']);
        if (b === 'ok' && (c !== 'ok' || scanned !== fileBytes)) throw new Violation(`openTarFile sums ${fileBytes} file bytes, tarFileBytes ${c === 'ok' ? scanned : c}`);
        // one codec: both readers agree on what a tar holds
        if (a === 'ok' && b === 'ok' && streamed.join('\n') !== indexed.join('\n')) {
          throw new Violation(`readTar and openTarFile disagree:\n${streamed.join('\n').slice(0, 500)}\n---\n${indexed.join('\n').slice(0, 500)}`);
        }
        if ((a === 'ok') !== (b === 'ok')) throw new Violation(`readTar ${a}, openTarFile ${b}`);
        return a;
      },
    };
  },
});

const tarApply = target({
  name: 'tar-apply',
  parser: '@strata/tar applyLayer into a temp dir (apply / overlay / keep), over lower content with links aimed outside',
  limitMs: 3000,
  weight: 4,
  async prepare(ctx) {
    const sb = makeSandbox(ctx.scratch);
    const seeds = await realTars(ctx);
    for (const c of HOSTILE_CASES) {
      for (const layer of c.layers(sb.outside)) seeds.push(await tarOf(layer));
      if (c.raw) seeds.push(c.raw(sb.outside));
    }
    const lowers: Record<string, TarWriteEntry[]> = {
      none: [],
      links: [E.sym('l', sb.outside), E.sym('r', '../../..'), E.dir('a'), E.file('a/b', 'lower'), E.sym('a/up', '../..'), E.file('f', 'lower'), E.hard('h', 'f')],
      dirs: [E.dir('a'), E.dir('a/b'), E.dir('a/b/c'), E.file('a/b/c/f', 'deep')],
    };
    const lowerTars: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(lowers)) lowerTars[k] = await tarOf(v);
    return {
      arbitrary: fc.record({
        tar: fc.oneof({ weight: 3, arbitrary: mutatedBytes(seeds) }, { weight: 3, arbitrary: hostileMembers(sb.outside) }),
        lower: fc.constantFrom('none', 'links', 'dirs'),
        whiteouts: fc.constantFrom<'apply' | 'overlay' | 'keep'>('apply', 'overlay', 'keep'),
        asRoot: fc.boolean(),
      }),
      async run({ tar, lower, whiteouts, asRoot }) {
        emptyDir(sb.target);
        if (lower !== 'none') await applyLayer(sb.target, chunked(lowerTars[lower], []), { whiteouts });
        const r = await settle(async () => {
          try {
            await applyLayer(sb.target, chunked(tar, [4096]), { whiteouts, root: asRoot && process.getuid?.() === 0 });
          } catch (err) {
            // the one system call a tar can make fail on purpose: a name longer than the filesystem takes
            if (err instanceof StrataError && err.code === 'IO_ERROR' && (err.cause as NodeJS.ErrnoException)?.code === 'ENAMETOOLONG') throw new StrataError('INVALID_TAR', 'name too long');
            throw err;
          }
        }, ['INVALID_TAR', 'UNSAFE_PATH', 'UNSUPPORTED']);
        const now = outsideState(sb.sandbox);
        if (now !== sb.before) throw new Violation(`written outside the target:\n${now}`);
        return r;
      },
      teardown: async () => rmSync(sb.sandbox, { recursive: true, force: true }),
    };
  },
});

const MANIFEST = {
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 1469 },
  layers: [
    { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${'b'.repeat(64)}`, size: 2_000_000, annotations: { 'org.opencontainers.image.title': 'x' } },
    { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: `sha256:${'c'.repeat(64)}`, size: 32 },
  ],
  annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
};
const INDEX = {
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'d'.repeat(64)}`, size: 500, platform: { architecture: 'amd64', os: 'linux' } },
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'e'.repeat(64)}`, size: 500, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'f'.repeat(64)}`, size: 500, platform: { architecture: 'unknown', os: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } },
  ],
};
const CONFIG = {
  architecture: 'amd64',
  os: 'linux',
  created: '2024-01-01T00:00:00Z',
  config: { Env: ['PATH=/usr/bin'], Cmd: ['sh'], Labels: { a: 'b' }, ExposedPorts: { '80/tcp': {} }, Volumes: { '/data': {} } },
  rootfs: { type: 'layers', diff_ids: [`sha256:${'1'.repeat(64)}`, `sha256:${'2'.repeat(64)}`] },
  history: [{ created_by: 'ADD x /' }, { created_by: 'ENV a=b', empty_layer: true }, { created_by: 'RUN y' }],
};

const ociJson = target({
  name: 'oci-json',
  parser: '@strata/oci parseManifest / parseIndex / parseImageConfig / validateDescriptor, then selectPlatform over the index',
  limitMs: 1000,
  weight: 3,
  async prepare(ctx) {
    const configs = filesUnder(join(ctx.repo, 'test-fixtures/inspect'), (n) => n === 'config.json').map((f) => JSON.parse(readFileSync(f, 'utf8')) as unknown);
    return {
      arbitrary: fc.record({ text: mutatedJsonText([MANIFEST, INDEX, CONFIG, ...configs]), kind: fc.constantFrom('manifest', 'index', 'config', 'descriptor') }),
      run: ({ text, kind }) =>
        settle(() => {
          if (kind === 'manifest') parseManifest(text);
          else if (kind === 'config') parseImageConfig(text);
          else if (kind === 'descriptor') validateDescriptor(JSON.parse(text));
          else selectPlatform(parseIndex(text), { os: 'linux', architecture: 'amd64' }, 'fuzz');
        }, ['INVALID_MANIFEST', 'NOT_FOUND', 'IMAGE_NOT_FOUND', 'UNSUPPORTED']).catch((err) => {
          // validateDescriptor is handed JSON.parse's result: a SyntaxError there is the harness's
          if (err instanceof Violation && kind === 'descriptor' && /SyntaxError/.test(err.message)) return 'not-json';
          throw err;
        }),
    };
  },
});

interface ArchiveMember {
  name: string;
  kind: 'file' | 'symlink' | 'hardlink' | 'dir';
  data?: Buffer;
  linkname?: string;
}

function encodeArchive(members: ArchiveMember[]): Buffer {
  const parts: Buffer[] = [];
  for (const m of members) {
    if (m.kind === 'file') parts.push(Buffer.concat([m.name.length > 99 ? gnuLong('L', m.name) : Buffer.alloc(0), member({ name: m.name.slice(0, 99), type: '0', magic: 'gnu' }, m.data ?? Buffer.alloc(0))]));
    else if (m.kind === 'dir') parts.push(member({ name: m.name, type: '5', mode: 0o755 }));
    else parts.push(member({ name: m.name, type: m.kind === 'symlink' ? '2' : '1', linkname: m.linkname }));
  }
  parts.push(END);
  return Buffer.concat(parts);
}

type ArchiveMutation =
  | { k: 'json'; member: number; doc: unknown }
  | { k: 'rename'; member: number; name: string }
  | { k: 'link'; member: number; kind: 'symlink' | 'hardlink'; linkname: string }
  | { k: 'drop'; member: number }
  | { k: 'dup'; member: number }
  | { k: 'data'; member: number; data: Buffer };

/**
 * An image archive (members as Docker writes them) with members' JSON mutated, renamed to
 * escaping names, replaced by links, dropped, duplicated or given other bytes; then maybe gzipped.
 */
function archiveArbitrary(seed: ArchiveMember[], jsonDocs: Map<number, unknown>, outside: string): fc.Arbitrary<Buffer> {
  const idx = fc.nat(seed.length - 1);
  const names = fc.constantFrom('../x', '/abs', `${outside}/victim`, 'manifest.json', 'index.json', 'oci-layout', 'blobs/sha256/x', 'a/../../b', './manifest.json', 'repositories', '');
  const mutation: fc.Arbitrary<ArchiveMutation> = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...jsonDocs.keys()).chain((i) => mutatedJson([jsonDocs.get(i)]).map((doc) => ({ k: 'json' as const, member: i, doc }))) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('rename' as const), member: idx, name: names }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('link' as const), member: idx, kind: fc.constantFrom<'symlink' | 'hardlink'>('symlink', 'hardlink'), linkname: fc.oneof(names, fc.constantFrom('..', '.', 'manifest.json')) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('drop' as const), member: idx }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('dup' as const), member: idx }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('data' as const), member: idx, data: fc.oneof(fc.uint8Array({ maxLength: 700 }).map((u) => Buffer.from(u)), fc.constantFrom(Buffer.from('{}'), Buffer.from('[]'), Buffer.from('null'), gzipSync(Buffer.alloc(4096)))) }) },
  );
  return fc.tuple(fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.constantFrom('none', 'none', 'none', 'gzip')).map(([ms, wrap]) => {
    let members = seed.map((m) => ({ ...m }));
    for (const m of ms) {
      if (!members.length) break;
      const i = m.member % members.length;
      if (m.k === 'json') members[i] = { ...members[i], kind: 'file', data: Buffer.from(JSON.stringify(m.doc) ?? 'null') };
      else if (m.k === 'rename') members[i] = { ...members[i], name: m.name };
      else if (m.k === 'link') members[i] = { name: members[i].name, kind: m.kind, linkname: m.linkname };
      else if (m.k === 'drop') members = members.filter((_, j) => j !== i);
      else if (m.k === 'dup') members.push({ ...members[i] });
      else members[i] = { ...members[i], kind: 'file', data: m.data };
    }
    const bytes = encodeArchive(members);
    return wrap === 'gzip' ? gzipSync(bytes) : bytes;
  });
}

/** A docker-archive as `docker save` writes it (Docker ≥25: OCI layout + manifest.json; or the legacy layout). */
async function dockerArchiveSeed(legacy: boolean): Promise<{ members: ArchiveMember[]; json: Map<number, unknown> }> {
  const layer = await tarOf([E.dir('etc'), E.file('etc/motd', 'hi\n')]);
  const diffId = sha256(layer);
  const config = { ...CONFIG, rootfs: { type: 'layers', diff_ids: [diffId] }, history: [{ created_by: 'ADD motd' }] };
  const cfg = Buffer.from(JSON.stringify(config));
  const cfgHex = sha256(cfg).slice(7);
  const layerHex = diffId.slice(7);
  const cfgPath = legacy ? `${cfgHex}.json` : `blobs/sha256/${cfgHex}`;
  const layerPath = legacy ? `${layerHex}/layer.tar` : `blobs/sha256/${layerHex}`;
  const manifest = [{ Config: cfgPath, RepoTags: ['fuzz/img:1'], Layers: [layerPath] }];
  const members: ArchiveMember[] = [
    { name: cfgPath, kind: 'file', data: cfg },
    { name: layerPath, kind: 'file', data: layer },
    { name: 'manifest.json', kind: 'file', data: Buffer.from(JSON.stringify(manifest)) },
  ];
  if (legacy) members.push({ name: 'repositories', kind: 'file', data: Buffer.from(JSON.stringify({ 'fuzz/img': { '1': layerHex } })) });
  return { members, json: new Map<number, unknown>([[0, config], [2, manifest]]) };
}

/** An OCI image layout in a tar (`skopeo copy oci-archive:`), a single image or an index of two platforms. */
async function ociLayoutSeed(): Promise<{ members: ArchiveMember[]; json: Map<number, unknown> }> {
  const layer = await tarOf([E.dir('bin'), E.file('bin/sh', '#!/bin/true\n', { mode: 0o755 })]);
  const gz = gzipSync(layer);
  const config = { ...CONFIG, rootfs: { type: 'layers', diff_ids: [sha256(layer)] }, history: [{ created_by: 'ADD sh' }] };
  const cfg = Buffer.from(JSON.stringify(config));
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(cfg), size: cfg.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(gz), size: gz.length }],
  };
  const man = Buffer.from(JSON.stringify(manifest));
  const index = {
    schemaVersion: 2,
    manifests: [
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(man), size: man.length, platform: { os: 'linux', architecture: 'amd64' }, annotations: { 'org.opencontainers.image.ref.name': 'fuzz/oci:1' } },
    ],
  };
  const blob = (b: Buffer): ArchiveMember => ({ name: `blobs/sha256/${sha256(b).slice(7)}`, kind: 'file', data: b });
  const members: ArchiveMember[] = [
    { name: 'oci-layout', kind: 'file', data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
    { name: 'index.json', kind: 'file', data: Buffer.from(JSON.stringify(index)) },
    blob(man),
    blob(cfg),
    blob(gz),
  ];
  return { members, json: new Map<number, unknown>([[0, { imageLayoutVersion: '1.0.0' }], [1, index], [2, manifest], [3, config]]) };
}

function loaderTarget(name: string, parser: string, seedOf: () => Promise<Array<{ members: ArchiveMember[]; json: Map<number, unknown> }>>): FuzzTarget {
  return target({
    name,
    parser,
    limitMs: 5000,
    weight: 2,
    async prepare(ctx) {
      const sb = makeSandbox(ctx.scratch);
      const seeds = await seedOf();
      const encodedSeeds = seeds.map((s) => encodeArchive(s.members));
      return {
        arbitrary: fc.record({
          archive: fc.oneof(
            { weight: 4, arbitrary: fc.nat(seeds.length - 1).chain((i) => archiveArbitrary(seeds[i].members, seeds[i].json, sb.outside)) },
            { weight: 1, arbitrary: mutatedBytes(encodedSeeds) },
          ),
          sizes: chunkSizes,
        }),
        async run({ archive, sizes }) {
          const bytes = archive;
          const root = sb.target;
          emptyDir(root);
          const r = await settle(
            () => loadImages({ root, openStore: () => openStore(root), source: { stream: chunked(bytes, sizes), name: 'fuzz.tar' } }),
            ['INVALID_ARCHIVE', 'INVALID_MANIFEST', 'INVALID_TAR', 'UNSAFE_PATH', 'UNSUPPORTED', 'DIGEST_MISMATCH', 'SIZE_MISMATCH', 'BLOB_NOT_FOUND', 'NOT_FOUND', 'IMAGE_NOT_FOUND', 'INVALID_REFERENCE', 'INVALID_DIGEST'],
          );
          const now = outsideState(sb.sandbox);
          if (now !== sb.before) throw new Violation(`written outside the store:\n${now}`);
          // a failed load leaves the store as it found it (here: empty)
          if (r !== 'ok' && readdirSync(root).length) throw new Violation(`a failed load (${r}) left ${readdirSync(root).join(', ')} in the store`);
          return r;
        },
        teardown: async () => rmSync(sb.sandbox, { recursive: true, force: true }),
      };
    },
  });
}

const dockerArchive = loaderTarget(
  'docker-archive',
  '@strata/image loadImages of docker-archives (manifest.json, configs, legacy and Docker ≥25 layouts)',
  async () => [await dockerArchiveSeed(false), await dockerArchiveSeed(true)],
);
const ociLayout = loaderTarget('oci-layout', '@strata/image loadImages of OCI layouts (oci-layout, index.json, manifests, blobs)', async () => [await ociLayoutSeed()]);

/** A response object as the transport hands it out, over fixed bytes. */
function fakeResponse(status: number, headers: Record<string, string>, body: string): HttpResponse {
  const bytes = Buffer.from(body);
  const b = {
    text: async () => bytes.toString('utf8'),
    json: async () => JSON.parse(bytes.toString('utf8')) as unknown,
    arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
    dump: async () => undefined,
    async *[Symbol.asyncIterator]() {
      yield bytes;
    },
  };
  return { status, headers, body: b as unknown as HttpResponse['body'], url: new URL('https://registry.invalid/') };
}

const registryAuth = target({
  name: 'registry-auth',
  parser: '@strata/registry parseChallenges (WWW-Authenticate), token JSON, error bodies (registryMessage), through a session over a fake transport',
  limitMs: 1000,
  weight: 3,
  async prepare() {
    const challenge = fc.oneof(
      mutatedText(['Bearer realm="https://auth.invalid/token",service="registry.invalid",scope="repository:a:pull"', 'Basic realm="x"', 'Basic realm="x", Bearer realm="https://a.invalid/t"'], ['Bearer', 'Basic', 'realm=', ',', '"', '\\"', '=', 'token68==']),
      fc.string({ maxLength: 80 }),
    );
    const tokenBody = fc.oneof(mutatedJsonText([{ token: 'abc', expires_in: 300 }, { access_token: 'abc' }]), fc.constantFrom('null', '"x"', '[]', '{"token":null}', '{"token":{"a":1}}', '{"token":"a\\r\\nX-Evil: 1"}', '{"token":""}'));
    const errorBody = fc.oneof(
      mutatedJsonText([{ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'x' } }] }, { errors: [] }]),
      fc.constantFrom('', '<html>\n<body>502 Bad Gateway</body>', '\u001b[31mred\u001b[0m', 'x'.repeat(10000), '{"errors":[null]}', '{"errors":[{"code":1,"message":{}}]}', '{"errors":"x"}'),
    );
    return {
      arbitrary: fc.record({
        challenges: fc.array(challenge, { minLength: 1, maxLength: 2 }),
        tokenStatus: fc.constantFrom(200, 200, 200, 401, 403, 500, 302),
        tokenBody,
        status: fc.constantFrom(200, 401, 403, 404, 500, 429),
        errorBody,
      }),
      async run({ challenges, tokenStatus, tokenBody, status, errorBody }) {
        parseChallenges(challenges);
        let served = 0;
        const transport: Transport = {
          allowsHttp: () => false,
          close: async () => undefined,
          request: async (req) => {
            if (++served > 20) throw new Violation('more than 20 requests for one call');
            if (req.url.pathname === '/v2/') return fakeResponse(401, { 'www-authenticate': challenges as unknown as string }, '');
            if (!req.url.pathname.startsWith('/v2/')) return fakeResponse(tokenStatus, {}, tokenBody);
            return fakeResponse(status, { 'www-authenticate': challenges[0] }, errorBody);
          },
        };
        const session = openSession('registry.invalid', transport, async () => ({ username: 'u', password: 'p' }));
        return settle(async () => {
          const res = await session.request({ method: 'GET', path: '/v2/a/manifests/1', scopes: ['repository:a:pull'] });
          const msg = await registryMessage(res);
          if (typeof msg !== 'string' || /[\r\n]/.test(msg)) throw new Violation(`registryMessage is not one line: ${JSON.stringify(msg).slice(0, 300)}`);
        }, ['AUTH_FAILED', 'REGISTRY_ERROR', 'NETWORK_ERROR']);
      },
    };
  },
});

/** Replies a hostile registry gives instead of the honest one. */
function hostileReply(kind: string, body: string, target: string, status: number): Reply {
  switch (kind) {
    case 'status':
      return { status, body };
    case 'body':
      return { status: 200, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body };
    case 'redirect':
      return { status: 307, headers: { location: target } };
    case 'auth':
      return { status: 401, headers: { 'www-authenticate': `Bearer realm="${target}",service="x"` }, body };
    case 'link':
      return { status: 200, headers: { link: `<${target}>; rel="next"` }, body };
    default:
      return { status: 200, body: 'endless' };
  }
}

const registryHttp = target({
  name: 'registry-http',
  parser: '@strata/registry inspect and pull against a hostile registry on 127.0.0.1 (manifests, configs, tags, blobs, redirects, auth)',
  limitMs: 8000,
  weight: 2,
  async prepare(ctx) {
    const img = await servedImage();
    const repo = 'fuzz/img';
    const good = honest(img, repo);
    const reg = await startHostileRegistry(good);
    const root = join(ctx.scratch, 'store');
    const conns = watchConnections();
    const targets = [
      'file:///etc/passwd', 'ftp://127.0.0.1/x', 'data:,x', `http://${reg.host}/v2/`, `http://${reg.host}/elsewhere`, `http://localhost:${reg.port}/v2/${repo}/manifests/1`,
      'http://10.0.0.1/x', 'http://169.254.169.254/latest/meta-data/', 'http://[fd00::1]/x', 'http://192.168.1.1:5000/v2/', 'http://0.0.0.0:1/x', '//127.0.0.1:1/x', 'javascript:alert(1)', '',
    ];
    const docs = [JSON.parse(img.manifest.toString()), JSON.parse(img.config.toString()), INDEX, { name: repo, tags: ['1', '2'] }, { errors: [{ code: 'X', message: 'y' }] }];
    const where = fc.constantFrom('ping', 'manifest', 'config', 'layer', 'tags', 'token');
    const reply = fc.record({ kind: fc.constantFrom('status', 'body', 'redirect', 'auth', 'link', 'endless'), body: fc.oneof(mutatedJsonText(docs), fc.constant('')), target: fc.constantFrom(...targets), status: fc.constantFrom(100, 204, 301, 304, 400, 401, 404, 416, 500, 503, 999) });
    return {
      arbitrary: fc.record({ changes: fc.dictionary(where, reply, { minKeys: 1, maxKeys: 3 }), op: fc.constantFrom('inspect', 'pull') }),
      async run({ changes, op }) {
        reg.handler = (req) => {
          const p = req.path;
          const at = p === '/v2/' ? 'ping' : p.includes('/manifests/') ? 'manifest' : p.includes('/tags/') ? 'tags' : p.includes(img.configDigest) ? 'config' : p.includes(img.layerDigest) ? 'layer' : p.startsWith('/token') ? 'token' : 'other';
          const c = (changes as Record<string, { kind: string; body: string; target: string; status: number }>)[at];
          if (!c || (c.kind === 'endless' && at === 'ping')) return good(req);
          return hostileReply(c.kind, c.body, c.target, c.status);
        };
        mkdirSync(root, { recursive: true });
        emptyDir(root);
        const registries = openRegistries({ env: {}, credentials: async () => undefined, retries: 1, sleep: async () => undefined, timeouts: { connectMs: 2000, headersMs: 3000, bodyMs: 3000 } });
        const reference = parseReference(`${reg.host}/${repo}:1`);
        const before = conns.hosts.length;
        try {
          return await settle(async () => {
            if (op === 'inspect') await inspectRemote({ registries, reference });
            else {
              const store = await openStore(root);
              await pullImage({ registries, reference, root, openStore: async () => store, distribution: openDistribution(root) });
            }
          }, ['AUTH_FAILED', 'REGISTRY_ERROR', 'NETWORK_ERROR', 'NOT_FOUND', 'INVALID_MANIFEST', 'DIGEST_MISMATCH', 'SIZE_MISMATCH', 'UNSUPPORTED', 'INVALID_ARCHIVE', 'IMAGE_NOT_FOUND', 'INVALID_TAR']);
        } finally {
          await registries.close();
          const away = conns.hosts.slice(before).filter((h) => !isLoopbackHost(h));
          if (away.length) throw new Violation(`connected to ${away.join(', ')}: a hostile registry steered strata off loopback`);
        }
      },
      teardown: async () => {
        conns.stop();
        await reg.close();
      },
    };
  },
});

const reference = target<string>({
  name: 'reference',
  parser: '@strata/oci parseReference / normalizeReference, and format ∘ parse round trips',
  limitMs: 500,
  weight: 2,
  async prepare() {
    const seeds = ['busybox', 'busybox:1.36', 'library/busybox@sha256:' + 'a'.repeat(64), 'localhost:5000/a/b:tag', '[::1]:5000/x', 'ghcr.io/o/r:v1@sha256:' + 'b'.repeat(64), 'index.docker.io/x', 'a.b.c/d__e-f.g:h_i'];
    const unit = fc.constantFrom('a', 'B', '0', '.', '_', '__', '-', ':', '/', '@', '[', ']', 's', 'h', 'sha256:', ' ', '\n', 'é', '\u0000');
    return {
      arbitrary: fc.oneof(mutatedText(seeds, ['sha256:', ':', '@', '//', '..', '[::1]', 'localhost']), fc.string({ unit, maxLength: 40 }), fc.string({ maxLength: 300 })),
      run: (s) =>
        settle(() => {
          const r = parseReference(s);
          const again = parseReference(formatReference(r));
          if (JSON.stringify(again) !== JSON.stringify(r)) throw new Violation(`format/parse do not round-trip: ${JSON.stringify(r)} vs ${JSON.stringify(again)}`);
          normalizeReference(s);
        }, ['INVALID_REFERENCE']),
    };
  },
});

export const TARGETS: FuzzTarget[] = [dockerfile, lexer, dockerignore, goTemplate, tarRead, tarApply, ociJson, dockerArchive, ociLayout, registryAuth, registryHttp, reference];

/** A private scratch directory for one target's run. */
export function scratchDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `strata-fuzz-${name}-`));
}
