import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { findContainer, writableLayer } from '@strata/cow';
import { append, applyChanges, withConfig } from '@strata/image';
import { openStore } from '@strata/image-store';
import { normalizeReference, type HistoryEntry, type ImageConfig } from '@strata/oci';
import { action, collect, type CommandContext, type CommandResult, type Io } from '../runner';

export interface CommitOptions {
  change: string[];
  message?: string;
  author?: string;
}

/**
 * Docker's `commit`: the container's image + its writable layer (none when nothing changed:
 * an `empty_layer` history entry, as Docker), with the container's runtime config (its Cmd,
 * Entrypoint, Env, WorkingDir, User) and `--change` instructions applied on top.
 */
export async function run(ctx: CommandContext, ref: string, target: string | undefined, o: CommitOptions): Promise<CommandResult> {
  const root = ctx.globals.root;
  const rec = findContainer(root, ref);
  if (!rec.image) throw new StrataError('UNSUPPORTED', `container ${rec.name} has no image to commit onto`);
  const tag = target === undefined ? undefined : normalizeReference(target);
  const store = await openStore(root);
  const stored = await store.image(rec.image);
  const captured = writableLayer(root, rec).capture();
  const changes = captured.changes;
  const tmp = join(root, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const file = join(tmp, `commit-${process.pid}-${randomBytes(6).toString('hex')}.tar`);
  try {
    const created = new Date().toISOString();
    const history: HistoryEntry = { created, created_by: (rec.config.cmd ?? rec.config.args).join(' ') };
    if (o.author) history.author = o.author;
    if (o.message) history.comment = o.message;
    let image = stored.image;
    if (changes.length) image = await append(image, [await captured.writeLayer(file)], [history]);
    else image = await append(image, [], [{ ...history, empty_layer: true }]);
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
      const next: ImageConfig = { ...c, created, config: applyChanges(runtime, o.change) };
      if (o.author) next.author = o.author;
      else delete next.author;
      return next;
    });
    const saved = await store.putImage(image, { tags: tag ? [tag] : [] });
    return { kind: 'text', text: saved.id };
  } finally {
    rmSync(file, { force: true });
  }
}

export function register(container: Command, io: Io): void {
  container
    .command('commit')
    .description("create an image from a container's changes")
    .argument('<container>', 'name or ID')
    .argument('[reference]', 'name:tag for the new image')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL (repeatable)', collect, [])
    .option('-m, --message <text>', 'commit message')
    .option('-a, --author <name>', 'author (e.g. "Jane <jane@example.com>")')
    .action(action(io, (ctx, ref: string, target: string | undefined, o: CommitOptions) => run(ctx, ref, target, o)));
}
