import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { normalizeReference, parseReference, repositoryName, type Compression } from '@strata/oci';
import { dockerArchive, ociArchive, type SaveEntry } from '@strata/image';
import { openStore, type StoredImage } from '@strata/image-store';
import { action, takeFormat, type CommandContext, type CommandResult, type Io } from '../runner';

export interface SaveOptions {
  output?: string;
  format: 'docker' | 'oci';
  compress?: string;
}

/** The tag a ref names, if it is one of the image's tags; IDs and digests go out untagged (as Docker). */
function tagFor(ref: string, tags: string[]): string | undefined {
  try {
    const t = normalizeReference(ref);
    return tags.includes(t) ? t : undefined;
  } catch {
    return undefined;
  }
}

/** `docker.io/library/busybox` for `busybox`; undefined when the ref has a tag or digest or is no name. */
function bareRepository(ref: string): string | undefined {
  try {
    const r = parseReference(ref);
    return r.tag === undefined && r.digest === undefined ? repositoryName(r) : undefined;
  } catch {
    return undefined;
  }
}

function repositoryOf(tag: string): string {
  return repositoryName(parseReference(tag));
}

export async function run(ctx: CommandContext, refs: string[], opts: SaveOptions): Promise<CommandResult> {
  if (opts.format !== 'docker' && opts.format !== 'oci') throw new StrataError('USAGE', `--format must be docker or oci, not "${opts.format}"`);
  const compress = (opts.compress ?? 'gzip') as Compression;
  if (!['gzip', 'zstd', 'none'].includes(compress)) throw new StrataError('USAGE', `--compress must be gzip, zstd or none, not "${opts.compress}"`);
  if (opts.compress && opts.format !== 'oci') throw new StrataError('USAGE', '--compress applies to --format oci (docker archives carry uncompressed layers, as Docker writes them)');
  const toStdout = ctx.isStd(opts.output);
  if (toStdout && (ctx.io.stdout as NodeJS.WriteStream).isTTY) {
    throw new StrataError('USAGE', 'refusing to write a tar archive to a terminal', { hint: 'use -o FILE or redirect: strata image save IMAGE > image.tar' });
  }
  const store = await openStore(ctx.globals.root);
  const byId = new Map<string, SaveEntry>();
  const add = (stored: StoredImage, tag: string | undefined) => {
    const entry = byId.get(stored.id) ?? { image: stored.image, tags: [] };
    byId.set(stored.id, entry);
    if (tag && !entry.tags.includes(tag)) entry.tags.push(tag);
  };
  for (const ref of refs) {
    // As `docker save`: a bare repository name means every tag of that repository.
    const repo = bareRepository(ref);
    const tagged = repo ? (await store.images()).flatMap((img) => img.tags.filter((t) => repositoryOf(t) === repo).map((t) => [img, t] as const)) : [];
    if (tagged.length) {
      for (const [img, t] of tagged) add(img, t);
      continue;
    }
    const stored = await store.image(ref);
    add(stored, tagFor(ref, stored.tags));
  }
  const entries = [...byId.values()];
  const tmpDir = join(ctx.globals.root, 'tmp');
  const stream = opts.format === 'oci' ? ociArchive(entries, { compress, tmpDir }) : dockerArchive(entries, { tmpDir });
  if (toStdout) return { kind: 'bytes', stream };
  // Write beside the target and rename, so a failed save never leaves a half archive under the name.
  const part = `${opts.output}.part-${process.pid}`;
  try {
    await pipeline(Readable.from(stream, { objectMode: false }), createWriteStream(part));
    renameSync(part, opts.output!);
  } catch (err) {
    rmSync(part, { force: true });
    throw err;
  }
  return { kind: 'none' };
}


export function register(image: Command, io: Io): void {
  const run1 = action(io, (ctx, refs: string[], opts: SaveOptions) => run(ctx, refs, opts));
  image
    .command('save')
    .description('write images to a tar archive: docker-archive (default, loads in any Docker) or OCI layout')
    .argument('<image...>', 'images to save (tags, IDs); layers shared between them are written once')
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .option('--compress <gzip|zstd|none>', 'layer compression for --format oci (default gzip)')
    .action(async (refs: string[], opts: Partial<SaveOptions>, cmd: Command) => {
      const claimed = takeFormat(cmd);
      // table|json are output formats (global); save's own formats are docker and oci.
      const format = claimed === undefined || claimed === 'table' || claimed === 'json' ? 'docker' : claimed;
      await run1(refs, { ...opts, format: format as SaveOptions['format'] }, cmd);
    });
  image.commands.find((c) => c.name() === 'save')!.addHelpText('after', '\nFormat: --format docker (default) or --format oci.');
}
