// Shared by the registry commands: options → registries, the store end, transfer progress.
import { StrataError } from '@strata/errors';
import { openDistribution, openStore, type Store } from '@strata/image-store';
import type { Registries, TransferEvent } from '@strata/registry';
import type { CommandContext } from '../runner';
import { pauseHook } from '../test-hooks';
import { parseBool, registryOptions } from './registry-options';

export { parseBool, registryOptions };

/** Registries for one end of a transfer; its TLS setting is its own. */
export async function registriesFor(ctx: CommandContext, tlsVerify: boolean | undefined): Promise<Registries> {
  // loaded on use: every `image …` command registers these verbs, few of them reach a registry
  const { openRegistries } = await import('@strata/registry');
  return openRegistries(registryOptions(ctx, tlsVerify));
}

/** The store with the distribution metadata pull and push keep beside it. */
export async function storeEnd(ctx: CommandContext): Promise<{ store: Store; distribution: ReturnType<typeof openDistribution> }> {
  const store = await openStore(ctx.globals.root, { checkpoint: pauseHook(ctx.io.env) });
  return { store, distribution: openDistribution(store.root) };
}

export type ProgressMode = 'tty' | 'plain' | 'json' | 'quiet';

/** --progress auto|tty|plain|json, -q → the mode (auto: tty when stderr is a terminal). */
export function progressMode(ctx: CommandContext, flag: string | undefined): ProgressMode {
  const f = flag ?? 'auto';
  if (!['auto', 'tty', 'plain', 'json'].includes(f)) throw new StrataError('USAGE', `--progress must be auto, tty, plain or json, not ${JSON.stringify(f)}`);
  if (ctx.globals.quiet) return 'quiet';
  if (f === 'auto') return (ctx.io.stderr as unknown as { isTTY?: boolean }).isTTY ? 'tty' : 'plain';
  return f as ProgressMode;
}

function human(n: number): string {
  if (n < 1000) return `${n}B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)}kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)}MB`;
  return `${(n / 1e9).toFixed(2)}GB`;
}

/**
 * Docker's transfer output on stderr: per-layer lines redrawn in place on a terminal
 * (`a1b2c3d4e5f6: Downloading [=====>   ] 12.3MB/45.6MB`); one line per status change otherwise;
 * JSON Lines with --progress json.
 */
export function transferPrinter(ctx: CommandContext, mode: ProgressMode): { onEvent: (e: TransferEvent) => void; finish: () => void } {
  const out = ctx.io.stderr;
  if (mode === 'quiet') return { onEvent: () => undefined, finish: () => undefined };
  if (mode === 'json') {
    const last = new Map<string, number>();
    return {
      onEvent: (e) => {
        if (e.type === 'layer' && (e.status === 'Downloading' || e.status === 'Pushing') && e.current) {
          // byte counts at most every 5%: a line per chunk would flood the pipe
          const step = Math.max(1, Math.floor((e.total ?? 20 * 1024 * 1024) / 20));
          const prev = last.get(e.id) ?? -Infinity;
          if (e.current - prev < step && e.current !== e.total) return;
          last.set(e.id, e.current);
        }
        out.write(`${JSON.stringify(e)}\n`);
      },
      finish: () => undefined,
    };
  }
  const text = (e: Extract<TransferEvent, { type: 'layer' }>) => (e.status === 'Mounted' ? `Mounted from ${e.from}` : e.status);
  if (mode === 'plain') {
    const seen = new Map<string, string>();
    return {
      onEvent: (e) => {
        if (e.type === 'status') out.write(`${e.message}\n`);
        else if (seen.get(e.id) !== e.status) {
          seen.set(e.id, e.status);
          out.write(`${e.id}: ${text(e)}\n`);
        }
      },
      finish: () => undefined,
    };
  }
  const lines: Array<{ id: string; text: string }> = [];
  let drawn = 0;
  let pending = false;
  const draw = () => {
    pending = false;
    let s = drawn > 0 ? `\x1b[${drawn}A` : '';
    for (const l of lines) s += `\x1b[2K${l.id}: ${l.text}\n`;
    drawn = lines.length;
    out.write(s);
  };
  return {
    onEvent: (e) => {
      if (e.type === 'status') {
        if (drawn > 0 || lines.length > 0) draw();
        out.write(`${e.message}\n`);
        lines.length = 0;
        drawn = 0;
        return;
      }
      let l = lines.find((x) => x.id === e.id);
      if (!l) lines.push((l = { id: e.id, text: '' }));
      if ((e.status === 'Downloading' || e.status === 'Pushing') && e.total) {
        const width = 50;
        const done = Math.min(width, Math.floor(((e.current ?? 0) / e.total) * width));
        l.text = `${e.status} [${'='.repeat(Math.max(0, done - 1))}${done > 0 ? '>' : ''}${' '.repeat(width - done)}] ${human(e.current ?? 0)}/${human(e.total)}`;
      } else if (e.status === 'Pushing' && e.current) l.text = `Pushing ${human(e.current)}`;
      else l.text = text(e);
      if (!pending) {
        pending = true;
        setTimeout(draw, 100).unref?.();
      }
    },
    finish: () => {
      if (lines.length) draw();
    },
  };
}
