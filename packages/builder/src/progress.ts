import type { ProgressEvent } from './types';

export type ProgressMode = 'auto' | 'tty' | 'plain' | 'json' | 'quiet';

interface Out {
  write(s: string): unknown;
}

function secs(ms: number | undefined): string {
  return `${((ms ?? 0) / 1000).toFixed(1)}s`;
}

/**
 * A progress sink for `build`: `plain` prints BuildKit-style `#N …` lines; `tty` redraws a compact
 * list of steps in place (like BuildKit's terminal display); `json` prints one event per line.
 */
export function createProgressPrinter(mode: ProgressMode, out: Out): { onEvent: (e: ProgressEvent) => void; finish: () => void } {
  if (mode === 'quiet') return { onEvent: () => undefined, finish: () => undefined };
  if (mode === 'json') return { onEvent: (e) => out.write(`${JSON.stringify(e)}\n`), finish: () => undefined };
  if (mode === 'plain' || mode === 'auto') {
    return {
      onEvent(e) {
        if (e.type === 'warning') out.write(`WARNING: ${e.message}${e.line ? ` (line ${e.line})` : ''}\n`);
        else if (e.type === 'log') out.write(e.data.split('\n').filter((l, i, a) => l !== '' || i < a.length - 1).map((l) => `#${e.id} ${l}\n`).join(''));
        else if (e.status === 'start') out.write(`#${e.id} ${e.name}\n`);
        else if (e.status === 'cached') out.write(`#${e.id} CACHED\n\n`);
        else if (e.status === 'done') out.write(`#${e.id} DONE ${secs(e.elapsedMs)}\n\n`);
        else out.write(`#${e.id} ERROR: ${e.error ?? 'failed'}\n\n`);
      },
      finish: () => undefined,
    };
  }
  // tty: redraw the step list under a header line.
  const t0 = Date.now();
  const steps: Array<{ id: number; name: string; status: string; elapsedMs?: number; started: number; tail: string[] }> = [];
  const warnings: string[] = [];
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  const draw = (final = false) => {
    const lines: string[] = [];
    const done = steps.filter((s) => s.status !== 'start').length;
    lines.push(`[+] Building ${secs(Date.now() - t0)} (${done}/${steps.length})${final ? ' FINISHED' : ''}`);
    for (const s of steps) {
      const time = s.status === 'start' ? secs(Date.now() - s.started) : s.status === 'cached' ? '' : secs(s.elapsedMs);
      const prefix = s.status === 'cached' ? 'CACHED ' : s.status === 'error' ? 'ERROR ' : '';
      const cols = (process.stderr.columns || 100) - 12;
      const text = ` => ${prefix}${s.name}`;
      lines.push(`${text.length > cols ? `${text.slice(0, cols - 1)}…` : text.padEnd(cols)} ${time.padStart(6)}`);
      if (s.status === 'start' || s.status === 'error') for (const l of s.tail) lines.push(` => => ${l.slice(0, cols - 6)}`);
    }
    let s = drawn > 0 ? `\x1b[${drawn}A` : '';
    s += lines.map((l) => `\x1b[2K${l}\n`).join('');
    out.write(s);
    drawn = lines.length;
  };
  return {
    onEvent(e) {
      if (e.type === 'warning') {
        warnings.push(e.message);
        return;
      }
      if (e.type === 'log') {
        const s = steps.find((x) => x.id === e.id);
        if (s) s.tail = [...s.tail, ...e.data.split('\n').filter(Boolean)].slice(-6);
      } else {
        const s = steps.find((x) => x.id === e.id);
        if (s) {
          s.status = e.status;
          s.elapsedMs = e.elapsedMs;
        } else steps.push({ id: e.id, name: e.name, status: e.status, elapsedMs: e.elapsedMs, started: Date.now(), tail: [] });
      }
      timer ??= setInterval(() => draw(), 150);
      timer.unref?.();
      draw();
    },
    finish() {
      if (timer) clearInterval(timer);
      if (steps.length) draw(true);
      for (const w of warnings) out.write(`WARNING: ${w}\n`);
    },
  };
}
