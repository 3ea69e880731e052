import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { clockOf } from './clock';
import { resolveRoot } from './root';
import { renderTable, type Column } from './table';
import { exitCodeOf, formatError } from './errors';

export type OutputFormat = 'table' | 'json';

export interface GlobalOptions {
  root: string;
  format: OutputFormat;
  quiet: boolean;
  color: boolean;
  verbose: boolean;
}

/** What a command's `run` hands back; the runner renders it. */
export type CommandResult =
  | {
      kind: 'records';
      records: Array<Record<string, unknown>>;
      /** Table columns; without them the table form is JSON Lines too. */
      columns?: Column[];
      /** With -q, print only this field of each record. */
      quietField?: string;
      exitCode?: number;
    }
  /** One JSON document (e.g. `image inspect`): printed as-is in every format. */
  | { kind: 'json'; value: unknown; exitCode?: number }
  | { kind: 'text'; text: string; exitCode?: number }
  | { kind: 'bytes'; stream: AsyncIterable<Uint8Array>; exitCode?: number }
  | { kind: 'none'; exitCode?: number };

export interface Io {
  stdin: NodeJS.ReadableStream;
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
}

export interface CommandContext {
  globals: GlobalOptions;
  io: Io;
  /** A line for people, on stderr (suppressed by -q). */
  log(message: string): void;
  /** A line for people only with -v. */
  debug(message: string): void;
  /** Is "-" or undefined (stdin/stdout) */
  isStd(path: string | undefined): boolean;
  /** Now, for output relative to it: the clock, or `STRATA_NOW` (tests). */
  now(): Date;
}

export function globalsOf(cmd: Command, env: NodeJS.ProcessEnv): GlobalOptions {
  const o = cmd.optsWithGlobals() as { root?: string; format?: string; quiet?: boolean; color?: boolean; verbose?: boolean };
  const format = o.format ?? 'table';
  if (format !== 'table' && format !== 'json') throw new StrataError('USAGE', `--format must be table or json, not "${format}"`);
  return { root: resolveRoot(o.root, env), format, quiet: !!o.quiet, color: o.color !== false && !env.NO_COLOR, verbose: !!o.verbose };
}

function makeContext(cmd: Command, io: Io): CommandContext {
  const globals = globalsOf(cmd, io.env);
  return {
    globals,
    io,
    log: (m) => {
      if (!globals.quiet) io.stderr.write(`${m}\n`);
    },
    debug: (m) => {
      if (globals.verbose) io.stderr.write(`${m}\n`);
    },
    isStd: (p) => p === undefined || p === '-',
    now: clockOf(io.env),
  };
}

/** Write a chunk, honouring backpressure. */
function write(out: Writable, s: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = out.write(s, (err) => (err ? reject(err) : undefined));
    if (ok) resolve();
    else out.once('drain', resolve);
  });
}

export async function render(result: CommandResult, ctx: CommandContext): Promise<number> {
  const { stdout } = ctx.io;
  switch (result.kind) {
    case 'records': {
      const { records, columns, quietField } = result;
      if (ctx.globals.quiet && quietField) {
        for (const r of records) await write(stdout, `${String(r[quietField] ?? '')}\n`);
      } else if (ctx.globals.format === 'json' || !columns) {
        for (const r of records) await write(stdout, `${JSON.stringify(r)}\n`);
      } else {
        await write(stdout, renderTable(records, columns));
      }
      break;
    }
    case 'json':
      await write(stdout, `${JSON.stringify(result.value, null, 4)}\n`);
      break;
    case 'text':
      if (result.text) await write(stdout, result.text.endsWith('\n') ? result.text : `${result.text}\n`);
      break;
    case 'bytes': {
      // loaded here: most commands never stream bytes, and node's stream modules cost a few ms to load
      const [{ Readable }, { pipeline }] = await Promise.all([import('node:stream'), import('node:stream/promises')]);
      await pipeline(Readable.from(result.stream, { objectMode: false }), stdout, { end: false });
      break;
    }
    case 'none':
      break;
  }
  return result.exitCode ?? 0;
}

/**
 * Output written straight into 64 KiB buffers and handed to the stream as each fills: for
 * listings too long to build as one string (`context ls` of 100k files), where the strings of
 * every line would otherwise live until the end and be copied by each young-generation GC.
 */
export class OutputBuffer {
  static readonly SIZE = 64 * 1024;
  private buf = Buffer.allocUnsafe(OutputBuffer.SIZE);
  private used = 0;

  constructor(private readonly out: Writable) {}

  write(s: string): void {
    // a UTF-16 code unit takes at most 3 bytes in UTF-8
    if (this.used + s.length * 3 > OutputBuffer.SIZE) {
      this.flush();
      if (s.length * 3 > OutputBuffer.SIZE) {
        this.out.write(s);
        return;
      }
    }
    this.used += this.buf.write(s, this.used, 'utf8');
  }

  /** Hand over what is buffered; resolves once the stream has taken everything written so far. */
  flush(): Promise<void> {
    if (this.used > 0) {
      this.out.write(this.buf.subarray(0, this.used));
      this.buf = Buffer.allocUnsafe(OutputBuffer.SIZE);
      this.used = 0;
    }
    return this.out.writableNeedDrain ? new Promise((resolve) => this.out.once('drain', resolve)) : Promise.resolve();
  }
}

/** Exit code for an error, after printing it as one line (plus a hint line) on stderr (errors.ts). */
export function reportError(err: unknown, io: Io, verbose: boolean, json = false): number {
  io.stderr.write(formatError(err, { verbose, json }));
  return exitCodeOf(err);
}

/** `image load`, `build`: the words that name a command, without the program's. */
function commandName(cmd: Command): string {
  const words: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) words.unshift(c.name());
  return words.join(' ');
}

/**
 * Wrap a command implementation for commander: builds the context, runs, renders, sets the exit
 * code. `fn` receives commander's action arguments (positionals..., options, command).
 */
export function action<A extends unknown[]>(io: Io, fn: (ctx: CommandContext, ...args: A) => Promise<CommandResult>) {
  return async (...args: unknown[]): Promise<void> => {
    const cmd = args[args.length - 1] as Command;
    let verbose = false;
    let json = false;
    try {
      const ctx = makeContext(cmd, io);
      // Library code reads no environment: what it takes from there, the CLI hands it (loaded
      // only when set: most commands never open the store).
      const lockSeconds = Number(io.env.STRATA_LOCK_TIMEOUT);
      if (lockSeconds > 0) (await import('@strata/image-store')).setLockTimeout(lockSeconds * 1000);
      // STRATA_LOCK_STATS=FILE: one line per store lock taken, how long it was waited for and held.
      if (io.env.STRATA_LOCK_STATS) (await import('@strata/image-store')).setLockStats(io.env.STRATA_LOCK_STATS, commandName(cmd));
      verbose = ctx.globals.verbose;
      json = ctx.globals.format === 'json';
      const result = await fn(ctx, ...(args.slice(0, -1) as A));
      process.exitCode = await render(result, ctx);
    } catch (err) {
      if ((err as NodeJS.ErrnoException)?.code === 'EPIPE') return;
      process.exitCode = reportError(err, io, verbose, json);
    }
  };
}

/**
 * The raw `--format` value given to `cmd`, for commands whose `--format` takes more than the
 * global table|json (Go templates, `image save --format oci`). Commander may store the value on
 * the command or on the program (the global option); the command's own wins. A value that is not
 * an output format is taken off the program, so the global validation does not reject it; a
 * table|json given to the command becomes the global output format.
 */
export function takeFormat(cmd: Command): string | undefined {
  const local = cmd.getOptionValue('format') as string | undefined;
  cmd.setOptionValue('format', undefined);
  let root = cmd;
  while (root.parent) root = root.parent;
  const global = root.getOptionValue('format') as string | undefined;
  if (local === 'json' || local === 'table') root.setOptionValue('format', local);
  else if (global !== undefined && global !== 'table' && global !== 'json') root.setOptionValue('format', undefined);
  return local ?? global;
}

/** Collect a repeatable option: `.option('-t, --tag <ref>', '…', collect, [])`. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
