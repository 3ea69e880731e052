import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { findContainer, writableLayer } from '@strata/cow';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';

/**
 * The merged root filesystem as a tar (Docker's `export`). The kernel merges: a read-only overlay
 * of upper + snapshots is mounted in a private mount namespace (never visible on the host, gone
 * when tar exits) and GNU tar reads it, sorted by name, numeric owners.
 */
export async function run(ctx: CommandContext, ref: string, o: { output?: string }): Promise<CommandResult> {
  const root = ctx.globals.root;
  const rec = findContainer(root, ref);
  const w = writableLayer(root, rec);
  mkdirSync(join(root, 'tmp'), { recursive: true });
  const scratch = mkdtempSync(join(root, 'tmp', `export-${process.pid}-`));
  const dirs = [w.upperdir, ...w.lowerdirs];
  mkdirSync(join(scratch, 'l'));
  mkdirSync(join(scratch, 'm'));
  dirs.forEach((d, i) => symlinkSync(d, join(scratch, 'l', String(i))));
  const opts = `ro,lowerdir=${dirs.map((_, i) => `l/${i}`).join(':')}`;
  const out = o.output && o.output !== '-' ? ['-f', o.output] : ['-f', '-'];
  const script = 'set -e; mount -t overlay strata-export -o "$1" m; shift; exec tar --numeric-owner --sort=name --xattrs --xattrs-include="security.*" --xattrs-include="user.*" -C m -c "$@" .';
  const child = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'strata-export', opts, ...out], { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      rmSync(scratch, { recursive: true, force: true });
      if (code === 0) resolve();
      else reject(new StrataError('IO_ERROR', `exporting ${rec.name}: ${err.trim().split('\n').pop() ?? `exit ${code}`}`));
    });
  });
  async function* stream(): AsyncGenerator<Uint8Array> {
    for await (const chunk of child.stdout) yield chunk as Uint8Array;
    await done;
  }
  if (out[1] !== '-') {
    for await (const _ of child.stdout) void _;
    await done;
    return { kind: 'none' };
  }
  return { kind: 'bytes', stream: stream() };
}

export function register(container: Command, io: Io): void {
  container
    .command('export')
    .description("the container's merged root filesystem as a tar on stdout")
    .argument('<container>', 'name or ID')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(action(io, (ctx, ref: string, o: { output?: string }) => run(ctx, ref, o)));
}
