import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ownerAlive, writableLayer } from '@strata/cow';
import { StrataError } from '@strata/errors';
import { findTool } from '@strata/host-tools';
import { append, applyChanges, withConfig } from '@strata/image';
import { openStore } from '@strata/image-store';
import type { Change } from '@strata/layer';
import { normalizeReference, type HistoryEntry, type ImageConfig } from '@strata/oci';
import { execProcess } from '@strata/runtime';
import { mergeEnv } from './create';
import { findContainer, runtimeDir } from './records';
import { DEFAULT_PATH } from './start';

/** `docker diff` of a container's writable layer. */
export function containerChanges(root: string, ref: string): Change[] {
  return writableLayer(root, findContainer(root, ref).id).changes();
}

export interface ExecOptions {
  args: string[];
  /** `-e` (merged over the container's environment). */
  env?: string[];
  workdir?: string;
  user?: string;
  tty?: boolean;
  stdin?: 'inherit' | 'ignore' | Readable;
  stdout?: 'inherit' | 'ignore' | Writable;
  stderr?: 'inherit' | 'ignore' | Writable;
}

/** Docker's `exec`: another process in a running container, with its capabilities and environment. */
export async function execInContainer(root: string, ref: string, o: ExecOptions): Promise<number> {
  const rec = findContainer(root, ref);
  if (rec.state !== 'running' || !ownerAlive(rec.owner)) throw new StrataError('CONFLICT', `Container ${rec.id} is not running`);
  let args = o.args;
  if (args[0] === '--') args = args.slice(1);
  if (!args.length) throw new StrataError('USAGE', 'no command given');
  return execProcess({
    runtime: rec.config.runtime,
    stateDir: runtimeDir(root, rec.id),
    id: rec.id,
    args,
    // Docker: the container's environment (PATH, HOSTNAME, its Env) plus -e.
    env: mergeEnv(mergeEnv([DEFAULT_PATH, `HOSTNAME=${rec.config.hostname}`], rec.config.env), o.env ?? []),
    cwd: o.workdir ?? rec.config.cwd,
    user: o.user ?? rec.config.user,
    viewDirs: writableLayer(root, rec.id).viewDirs(),
    terminal: o.tty,
    security: rec.config.security,
    stdin: o.stdin,
    stdout: o.stdout,
    stderr: o.stderr,
  });
}

export interface CommitOptions {
  /** The new image's tag. */
  tag?: string;
  /** `--change` Dockerfile instructions. */
  change?: string[];
  message?: string;
  author?: string;
  now?: Date;
  /** Crash tests stop here: `layer-written`, then the store's points (`openStore`'s checkpoint). */
  checkpoint?: (point: string) => void | Promise<void>;
}

/**
 * Docker's `commit`: the container's image + its writable layer (none when nothing changed: an
 * `empty_layer` history entry, as Docker), with the container's runtime config (its Cmd,
 * Entrypoint, Env, WorkingDir, User) and `--change` instructions applied on top. The image ID.
 */
export async function commitContainer(root: string, ref: string, o: CommitOptions = {}): Promise<string> {
  const rec = findContainer(root, ref);
  const tag = o.tag === undefined ? undefined : normalizeReference(o.tag);
  const store = await openStore(root, { checkpoint: o.checkpoint });
  const stored = await store.image(rec.image);
  const captured = writableLayer(root, rec.id).capture();
  const tmp = join(root, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const file = join(tmp, `commit-${process.pid}-${randomBytes(6).toString('hex')}.tar`);
  try {
    const created = (o.now ?? new Date()).toISOString();
    const history: HistoryEntry = { created, created_by: (rec.config.cmd ?? rec.config.args).join(' ') };
    if (o.author) history.author = o.author;
    if (o.message) history.comment = o.message;
    let image = stored.image;
    if (captured.changes.length) {
      image = await append(image, [await captured.writeLayer(file)], [history]);
      await store.checkpoint('layer-written');
    } else image = await append(image, [], [{ ...history, empty_layer: true }]);
    image = await withConfig(image, (c: ImageConfig) => {
      const runtime = {
        ...(c.config ?? {}),
        Env: rec.config.env,
        Cmd: rec.config.cmd,
        Entrypoint: rec.config.entrypoint?.length ? rec.config.entrypoint : undefined,
        WorkingDir: rec.config.cwd === '/' && !c.config?.WorkingDir ? c.config?.WorkingDir : rec.config.cwd,
        User: rec.config.user || undefined,
      };
      for (const k of Object.keys(runtime) as Array<keyof typeof runtime>) if (runtime[k] === undefined || runtime[k] === '') delete runtime[k];
      const next: ImageConfig = { ...c, created, config: applyChanges(runtime, o.change ?? []) };
      if (o.author) next.author = o.author;
      else delete next.author;
      return next;
    });
    const saved = await store.putImage(image, { tags: tag ? [tag] : [] });
    return saved.id;
  } finally {
    rmSync(file, { force: true });
  }
}

const TAR_FLAGS = ['--numeric-owner', '--sort=name', '--xattrs', '--xattrs-include=security.*', '--xattrs-include=user.*'];

/**
 * The merged root filesystem as a tar (Docker's `export`). The kernel merges: a read-only overlay
 * of upper + snapshots is mounted in a private mount namespace (never visible on the host, gone
 * when tar exits) and GNU tar reads it, sorted by name, numeric owners. The copying fallback
 * already has the merged tree on disk. `file`: write there instead of returning the stream.
 */
export function exportContainer(root: string, ref: string, file?: string): AsyncIterable<Uint8Array> & { done: Promise<void> } {
  const rec = findContainer(root, ref);
  const w = writableLayer(root, rec.id);
  const out = file ?? '-';
  const tar = findTool('tar');
  let cmd: string;
  let args: string[];
  let cwd: string | undefined;
  let scratch: string | undefined;
  if (w.mode === 'copy') {
    [cmd, args] = [tar, [...TAR_FLAGS, '-C', w.upperdir, '-c', '-f', out, '.']];
  } else {
    mkdirSync(join(root, 'tmp'), { recursive: true });
    scratch = mkdtempSync(join(root, 'tmp', `export-${process.pid}-`));
    const dirs = w.viewDirs();
    mkdirSync(join(scratch, 'l'));
    mkdirSync(join(scratch, 'm'));
    dirs.forEach((d, i) => symlinkSync(d, join(scratch!, 'l', String(i))));
    const opts = `ro,nosymfollow,lowerdir=${dirs.map((_, i) => `l/${i}`).join(':')}`;
    const script = 'set -e; "$0" -t overlay strata-export -o "$1" m; shift; exec "$@"';
    cmd = findTool('unshare');
    args = ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, findTool('mount'), opts, tar, ...TAR_FLAGS, '-C', 'm', '-c', '-f', out, '.'];
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
  async function* stream(): AsyncGenerator<Uint8Array> {
    for await (const chunk of child.stdout) yield chunk as Uint8Array;
    await done;
  }
  return Object.assign(stream(), { done });
}
