import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { findContainer, writableLayer } from '@strata/cow';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';

const TAR = ['tar', '--numeric-owner', '--sort=name', '--xattrs', '--xattrs-include=security.*', '--xattrs-include=user.*'];

/**
 * The merged root filesystem as a tar (Docker's `export`). The kernel merges: a read-only overlay
 * of upper + snapshots is mounted in a private mount namespace (never visible on the host, gone
 * when tar exits) and GNU tar reads it, sorted by name, numeric owners. The copying fallback
 * already has the merged tree on disk.
 */
export async function run(ctx: CommandContext, ref: string, o: { output?: string }): Promise<CommandResult> {
  const root = ctx.globals.root;
  const rec = findContainer(root, ref);
  const w = writableLayer(root, rec);
  const out = o.output && o.output !== '-' ? o.output : '-';
  let cmd: string;
  let args: string[];
  let cwd: string | undefined;
  let scratch: string | undefined;
  if (w.mode === 'copy') {
    [cmd, args] = [TAR[0], [...TAR.slice(1), '-C', w.upperdir, '-c', '-f', out, '.']];
  } else {
    mkdirSync(join(root, 'tmp'), { recursive: true });
    scratch = mkdtempSync(join(root, 'tmp', `export-${process.pid}-`));
    const dirs = [w.upperdir, ...w.lowerdirs];
    mkdirSync(join(scratch, 'l'));
    mkdirSync(join(scratch, 'm'));
    dirs.forEach((d, i) => symlinkSync(d, join(scratch!, 'l', String(i))));
    const opts = `ro,lowerdir=${dirs.map((_, i) => `l/${i}`).join(':')}`;
    const script = 'set -e; mount -t overlay strata-export -o "$1" m; shift; exec "$@"';
    cmd = 'unshare';
    args = ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'strata-export', opts, ...TAR, '-C', 'm', '-c', '-f', out, '.'];
    cwd = scratch;
  }
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (scratch) rmSync(scratch, { recursive: true, force: true });
      if (code === 0) resolve();
      else reject(new StrataError('IO_ERROR', `exporting ${rec.name}: ${err.trim().split('\n').pop() ?? `exit ${code}`}`));
    });
  });
  if (out !== '-') {
    for await (const _ of child.stdout) void _;
    await done;
    return { kind: 'none' };
  }
  async function* stream(): AsyncGenerator<Uint8Array> {
    for await (const chunk of child.stdout) yield chunk as Uint8Array;
    await done;
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
