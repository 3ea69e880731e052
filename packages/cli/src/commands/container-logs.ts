import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { containerDir, findContainer, ownerAlive, readContainer } from '@strata/cow';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';
import { LOG_FILE, type LogRecord } from './container-lib';

interface LogsOptions {
  follow?: boolean;
  timestamps?: boolean;
  tail?: string;
}

function write(out: Writable, data: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (out.write(data, (err) => (err ? reject(err) : undefined))) resolve();
    else out.once('drain', resolve);
  });
}

/** Lines of a stream's output, each with the time of the chunk that ended it (as Docker's json-file). */
function* lines(records: LogRecord[]): Generator<{ stream: LogRecord['stream']; time: string; line: Buffer }> {
  const pending: Record<string, Buffer[]> = { stdout: [], stderr: [] };
  for (const r of records) {
    let buf = Buffer.from(r.data, 'base64');
    for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10)) {
      yield { stream: r.stream, time: r.time, line: Buffer.concat([...pending[r.stream], buf.subarray(0, nl + 1)]) };
      pending[r.stream] = [];
      buf = buf.subarray(nl + 1);
    }
    if (buf.length) pending[r.stream].push(buf);
  }
  for (const stream of ['stdout', 'stderr'] as const) {
    if (pending[stream].length) yield { stream, time: records[records.length - 1].time, line: Buffer.concat(pending[stream]) };
  }
}

function readFrom(file: string, offset: number): { text: string; next: number } {
  if (!existsSync(file)) return { text: '', next: offset };
  const size = statSync(file).size;
  if (size <= offset) return { text: '', next: offset };
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    // Only whole lines: a record being written is read next time.
    const end = buf.lastIndexOf(10) + 1;
    return { text: buf.subarray(0, end).toString('utf8'), next: offset + end };
  } finally {
    closeSync(fd);
  }
}

const parse = (text: string): LogRecord[] => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogRecord);

/** Docker's `logs`: both streams in the order written, stdout to stdout and stderr to stderr. */
export async function run(ctx: CommandContext, ref: string, o: LogsOptions): Promise<CommandResult> {
  const root = ctx.globals.root;
  const rec = findContainer(root, ref);
  const file = join(containerDir(root, rec.id), LOG_FILE);
  let tail = Infinity;
  if (o.tail !== undefined && o.tail !== 'all') {
    tail = Number(o.tail);
    if (!Number.isInteger(tail) || tail < 0) throw new StrataError('USAGE', `--tail must be a number or "all", not "${o.tail}"`);
  }
  const emit = async (records: LogRecord[], limit: number) => {
    const all = [...lines(records)];
    for (const l of limit === Infinity ? all : all.slice(Math.max(0, all.length - limit))) {
      const out = l.stream === 'stdout' ? ctx.io.stdout : ctx.io.stderr;
      if (o.timestamps) await write(out, `${l.time} `);
      await write(out, l.line);
    }
  };
  let { text, next } = readFrom(file, 0);
  await emit(parse(text), tail);
  while (o.follow) {
    const now = readContainer(root, rec.id);
    const running = now?.state === 'running' && ownerAlive(now.owner);
    await new Promise((r) => setTimeout(r, 100));
    ({ text, next } = readFrom(file, next));
    if (text) await emit(parse(text), Infinity);
    if (!running && !text) break;
  }
  return { kind: 'none' };
}

export function register(container: Command, io: Io): void {
  container
    .command('logs')
    .description("print a container's output (stdout on stdout, stderr on stderr, in the order written)")
    .argument('<container>', 'name or ID')
    .option('-f, --follow', 'keep printing while the container runs')
    .option('-t, --timestamps', 'prefix each line with the time it was written')
    .option('-n, --tail <n>', 'only the last N lines (default all)')
    .action(action(io, (ctx, ref: string, o: LogsOptions) => run(ctx, ref, o)));
}
