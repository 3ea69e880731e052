// `strata image browse REF`: dive's layer browser in the terminal. The state and the screen are
// @strata/report's pure functions; this module owns the terminal: raw keys in, frames out, the
// alternate screen, and the size (80×24 when the terminal does not say).
import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { createBrowser, handleKey, imageModel, initialState, renderScreen, type Key } from '@strata/report';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';
import { openAnalysisInput } from './image-efficiency';

const KEYS: Record<string, Key> = {
  '\x1b[A': 'up', '\x1bOA': 'up', '\x1b[B': 'down', '\x1bOB': 'down', '\x1b[5~': 'pageup', '\x1b[6~': 'pagedown',
  '\t': 'tab', '\r': 'enter', '\n': 'enter', '\x1b': 'escape', '\x7f': 'backspace', '\b': 'backspace', ' ': 'space',
  '\x01': 'ctrl-a', '\x06': 'ctrl-f', '\x0f': 'ctrl-o', '\x03': 'ctrl-c',
};

/** Split a chunk of terminal input into keys (escape sequences kept whole). */
function decodeKeys(s: string): Key[] {
  const out: Key[] = [];
  for (let i = 0; i < s.length; ) {
    const seq = ['\x1b[5~', '\x1b[6~', '\x1b[A', '\x1b[B', '\x1bOA', '\x1bOB'].find((k) => s.startsWith(k, i));
    if (seq) {
      out.push(KEYS[seq]);
      i += seq.length;
      continue;
    }
    const c = s[i++];
    out.push(KEYS[c] ?? { char: c });
  }
  return out;
}

export async function run(ctx: CommandContext, ref: string): Promise<CommandResult> {
  const stdin = ctx.io.stdin as NodeJS.ReadStream;
  const stdout = ctx.io.stdout as NodeJS.WriteStream;
  if (!stdin.isTTY || !stdout.isTTY) throw new StrataError('USAGE', 'image browse needs a terminal (try image efficiency or image report)');
  const src = await openAnalysisInput(ctx, ref);
  try {
    const model = await imageModel({ name: ref, id: src.id, config: src.config, layers: src.input.layers.map((l, i) => ({ diffId: l.diffId, source: src.sources[i] })) });
    const browser = createBrowser(model, src.sources);
    let state = initialState();
    const size = () => ({ w: stdout.columns || 80, h: stdout.rows || 24 });
    const draw = async () => {
      const { w, h } = size();
      const rows = await browser.rows(state);
      stdout.write(`\x1b[H${renderScreen(browser, state, rows, w, h, ctx.globals.color).join('\r\n')}`);
      return rows;
    };
    stdout.write('\x1b[?1049h\x1b[?25l\x1b[2J');
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    try {
      let rows = await draw();
      stdout.on('resize', () => void draw());
      for await (const chunk of stdin as AsyncIterable<string>) {
        for (const key of decodeKeys(chunk)) state = handleKey(state, key, model.layers.length, rows, size().h - 6);
        if (state.quit) break;
        rows = await draw();
      }
    } finally {
      stdin.setRawMode(false);
      stdin.pause();
      stdout.write('\x1b[?25h\x1b[?1049l');
    }
  } finally {
    await src.close();
  }
  return { kind: 'none' };
}

export function register(image: Command, io: Io): void {
  image
    .command('browse')
    .description("browse an image's layers and files in the terminal, as dive does (q quits)")
    .argument('<ref>', 'image reference or ID, docker-archive:FILE[:REF] or oci:DIR[:REF]')
    .action(action(io, (ctx, ref: string) => run(ctx, ref)));
}
