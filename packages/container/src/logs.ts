import { closeSync, createWriteStream, existsSync, openSync, readSync, statSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ownerAlive } from '@strata/cow';
import { StrataError } from '@strata/errors';
import { containerDir, findContainer, readContainer } from './records';

/** The container's output, as Docker's json-file driver: one JSON object per chunk, both streams in order. */
export const LOG_FILE = 'container-log.jsonl';

export interface LogRecord {
  stream: 'stdout' | 'stderr';
  time: string;
  /** Base64 of the bytes (binary-safe, unlike Docker's UTF-8 `log` field). */
  data: string;
}

export function logPath(root: string, id: string): string {
  return join(containerDir(root, id), LOG_FILE);
}

/** Appends records to a container's log file; `close()` when the container is done. */
export function openLog(root: string, id: string, now: () => Date): { stdout: Writable; stderr: Writable; close(): Promise<void> } {
  const file: WriteStream = createWriteStream(logPath(root, id), { flags: 'a' });
  const sink = (stream: LogRecord['stream']) =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        const rec: LogRecord = { stream, time: now().toISOString(), data: chunk.toString('base64') };
        if (file.write(`${JSON.stringify(rec)}\n`)) cb();
        else file.once('drain', () => cb());
      },
    });
  return { stdout: sink('stdout'), stderr: sink('stderr'), close: () => new Promise<void>((r) => file.end(() => r())) };
}

/** Writes to several destinations (the terminal and the container's log file). */
export function tee(...dests: Writable[]): Writable {
  return new Writable({
    write(chunk, _enc, cb) {
      let pending = dests.length;
      const done = () => --pending === 0 && cb();
      for (const d of dests) if (d.write(chunk)) done();
      else d.once('drain', done);
    },
  });
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

export interface LogsOptions {
  follow?: boolean;
  timestamps?: boolean;
  /** Only the last N lines ('all' or undefined: all). */
  tail?: string;
}

/** Docker's `logs`: both streams in the order written, stdout to `out.stdout`, stderr to `out.stderr`. */
export async function containerLogs(root: string, ref: string, o: LogsOptions, out: { stdout: Writable; stderr: Writable }): Promise<void> {
  const rec = findContainer(root, ref);
  const file = logPath(root, rec.id);
  let tail = Infinity;
  if (o.tail !== undefined && o.tail !== 'all') {
    tail = Number(o.tail);
    if (!Number.isInteger(tail) || tail < 0) throw new StrataError('USAGE', `--tail must be a number or "all", not "${o.tail}"`);
  }
  const emit = async (records: LogRecord[], limit: number) => {
    const all = [...lines(records)];
    for (const l of limit === Infinity ? all : all.slice(Math.max(0, all.length - limit))) {
      const dest = l.stream === 'stdout' ? out.stdout : out.stderr;
      if (o.timestamps) await write(dest, `${l.time} `);
      await write(dest, l.line);
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
}
