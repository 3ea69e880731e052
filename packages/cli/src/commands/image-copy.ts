import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { StrataError } from '@strata/errors';
import { normalizeReference, parseReference, type Reference } from '@strata/oci';
import type { CopyEnd, Registries } from '@strata/registry';
import type { Image } from '@strata/image';
import { action, type CommandContext, type CommandResult, type Io } from '../runner';
import { pauseHook } from '../test-hooks';
import { parseBool, progressMode, registryOptions, storeEnd, transferPrinter } from './registry-lib';

/** A transport as skopeo spells it, or a plain reference (the store). */
export type End =
  | { kind: 'docker'; reference: Reference }
  | { kind: 'oci'; dir: string; ref?: string }
  | { kind: 'oci-archive' | 'docker-archive'; file: string; ref?: string }
  | { kind: 'store'; ref: string };

function pathAndRef(s: string): { path: string; ref?: string } {
  const i = s.indexOf(':');
  if (i < 0) return { path: s };
  return { path: s.slice(0, i), ref: s.slice(i + 1) || undefined };
}

export function parseEnd(s: string): End {
  if (s.startsWith('docker://')) return { kind: 'docker', reference: parseReference(s.slice('docker://'.length)) };
  for (const kind of ['oci-archive', 'docker-archive', 'oci'] as const) {
    if (s.startsWith(`${kind}:`)) {
      const { path, ref } = pathAndRef(s.slice(kind.length + 1));
      if (!path) throw new StrataError('USAGE', `${s}: the ${kind} transport needs a path`);
      return kind === 'oci' ? { kind, dir: path, ref } : { kind, file: path, ref };
    }
  }
  if (/^[a-z-]+:(?!\d)/.test(s) && !s.includes('/')) throw new StrataError('USAGE', `unknown transport in ${JSON.stringify(s)} (docker://, oci:, oci-archive:, docker-archive:, or a plain reference for the store)`);
  return { kind: 'store', ref: s };
}

interface CopyFlags {
  allPlatforms?: boolean;
  platform?: string;
  srcTlsVerify?: string;
  destTlsVerify?: string;
  progress?: string;
}

async function writeAtomically(file: string, stream: AsyncIterable<Uint8Array>): Promise<void> {
  const part = `${file}.part-${process.pid}`;
  try {
    await pipeline(Readable.from(stream, { objectMode: false }), createWriteStream(part));
    renameSync(part, file);
  } catch (err) {
    rmSync(part, { force: true });
    throw err;
  }
}

export async function run(ctx: CommandContext, srcArg: string, destArg: string, flags: CopyFlags): Promise<CommandResult> {
  const src = parseEnd(srcArg);
  const dest = parseEnd(destArg);
  const { copyImage, copyImageToOciDir, parsePlatformSpec, pullImage, pushImage } = await import('@strata/registry');
  const { loadImages } = await import('@strata/image');
  const platform = flags.platform ? parsePlatformSpec(flags.platform) : undefined;
  const printer = transferPrinter(ctx, progressMode(ctx, flags.progress));
  const opened: Registries[] = [];
  const scratches: string[] = [];
  const { openRegistries } = await import('@strata/registry');
  const regs = (v: string | undefined, flag: string) => {
    const r = openRegistries(registryOptions(ctx, parseBool(v, flag)));
    opened.push(r);
    return r;
  };
  const scratch = (what: string) => {
    const d = join(ctx.globals.root, 'tmp', `copy-${what}-${process.pid}-${randomBytes(6).toString('hex')}`);
    mkdirSync(d, { recursive: true });
    scratches.push(d);
    return d;
  };
  try {
    let digest: string | undefined;
    if (src.kind === 'docker' && dest.kind === 'store') {
      const { store, distribution } = await storeEnd(ctx);
      const r = await pullImage({
        registries: regs(flags.srcTlsVerify, '--src-tls-verify'),
        reference: src.reference,
        root: store.root,
        openStore: async () => store,
        distribution,
        platform,
        allPlatforms: flags.allPlatforms,
        progress: printer.onEvent,
        checkpoint: pauseHook(ctx.io.env),
      });
      const want = normalizeReference(dest.ref);
      if (!r.tags.includes(want)) await store.tag(r.id, want);
      digest = r.digest;
    } else if (src.kind === 'store' && dest.kind === 'docker') {
      const { store, distribution } = await storeEnd(ctx);
      const stored = await store.useImage(src.ref);
      const reference = withTag(dest.reference, parseReference(src.ref).tag);
      digest = (await pushImage({ registries: regs(flags.destTlsVerify, '--dest-tls-verify'), reference, image: stored.image, distribution, progress: printer.onEvent })).digest;
    } else if (isLayoutEnd(src) && isLayoutEnd(dest)) {
      // Blobs move as they are (digests kept). An oci-archive is an OCI layout in a tar: read
      // from one unpacked into a scratch directory, written as a layout there and then packed.
      const end = async (e: LayoutEnd, v: string | undefined, flag: string, side: 'src' | 'dest'): Promise<CopyEnd> => {
        if (e.kind === 'docker') return { kind: 'docker', reference: e.reference, registries: regs(v, flag) };
        if (e.kind === 'oci') return { kind: 'oci', dir: e.dir, ref: e.ref };
        const dir = scratch(side);
        if (side === 'src') await unpackArchive(e.file, dir);
        return { kind: 'oci', dir, ref: e.ref };
      };
      const from = await end(src, flags.srcTlsVerify, '--src-tls-verify', 'src');
      const to = await end(dest, flags.destTlsVerify, '--dest-tls-verify', 'dest');
      const r = await copyImage({ src: from, dest: to, allPlatforms: flags.allPlatforms, platform, progress: printer.onEvent });
      if (dest.kind === 'oci-archive') await writeAtomically(dest.file, await packLayout((to as { dir: string }).dir));
      digest = r.digest;
    } else if ((src.kind === 'oci' || src.kind === 'oci-archive' || src.kind === 'docker-archive') && dest.kind === 'store') {
      const root = ctx.globals.root;
      const { openStore } = await import('@strata/image-store');
      const path = src.kind === 'oci' ? src.dir : src.file;
      const loaded = await loadImages({ root, openStore: () => openStore(root), source: { path }, platform });
      const store = await openStore(root);
      const { pick } = pickLoaded(loaded, src.ref, srcArg);
      await store.tag(pick.id, normalizeReference(dest.ref));
      digest = pick.id;
    } else if (src.kind === 'store' && dest.kind === 'oci') {
      const { store } = await storeEnd(ctx);
      const stored = await store.useImage(src.ref);
      digest = (await copyImageToOciDir(stored.image, dest.dir, dest.ref, { checkpoint: pauseHook(ctx.io.env) })).digest;
    } else if (src.kind === 'store' && (dest.kind === 'oci-archive' || dest.kind === 'docker-archive')) {
      const { store } = await storeEnd(ctx);
      const stored = await store.useImage(src.ref);
      await saveArchive(dest, stored.image, stored.tags[0], join(store.root, 'tmp'));
      digest = stored.id;
    } else if (src.kind === 'store' && dest.kind === 'store') {
      const { store } = await storeEnd(ctx);
      await store.tag(src.ref, dest.ref);
    } else if (src.kind !== 'store' && dest.kind !== 'store') {
      // To or from a docker-archive, whose layers are uncompressed tars: through a scratch store
      // of the copy's own (in the store's tmp/, gone afterwards), as pull or load, then push or save.
      const sroot = scratch('store');
      const { openStore, openDistribution } = await import('@strata/image-store');
      const sstore = await openStore(sroot, { checkpoint: pauseHook(ctx.io.env) });
      const sdist = openDistribution(sroot);
      let id: string;
      /** The source's own name, for a destination that does not give one. */
      let name: string | undefined;
      if (src.kind === 'docker') {
        const r = await pullImage({
          registries: regs(flags.srcTlsVerify, '--src-tls-verify'),
          reference: src.reference,
          root: sroot,
          openStore: async () => sstore,
          distribution: sdist,
          platform,
          progress: printer.onEvent,
          checkpoint: pauseHook(ctx.io.env),
        });
        id = r.id;
        name = r.tags[0];
      } else {
        const path = src.kind === 'oci' ? src.dir : src.file;
        const loaded = await loadImages({ root: sroot, openStore: async () => sstore, source: { path }, platform });
        const picked = pickLoaded(loaded, src.ref, srcArg);
        id = picked.pick.id;
        name = src.kind === 'docker-archive' ? picked.name : undefined;
      }
      const stored = await sstore.useImage(id);
      if (dest.kind === 'docker') {
        const reference = withTag(dest.reference, name && parseReference(name).tag);
        digest = (await pushImage({ registries: regs(flags.destTlsVerify, '--dest-tls-verify'), reference, image: stored.image, distribution: sdist, progress: printer.onEvent })).digest;
      } else if (dest.kind === 'oci') {
        digest = (await copyImageToOciDir(stored.image, dest.dir, dest.ref, { checkpoint: pauseHook(ctx.io.env) })).digest;
      } else {
        await saveArchive(dest, stored.image, name, join(sroot, 'tmp'));
        digest = stored.id;
      }
    } else {
      throw new StrataError('UNSUPPORTED', `copy from ${src.kind} to ${dest.kind} is not supported`);
    }
    printer.finish();
    if (ctx.globals.format === 'json') return { kind: 'records', records: [{ source: srcArg, destination: destArg, digest }] };
    return { kind: 'text', text: ctx.globals.quiet ? (digest ?? '') : '' };
  } finally {
    printer.finish();
    await Promise.all(opened.map((r) => r.close()));
    for (const d of scratches) rmSync(d, { recursive: true, force: true });
  }
}

/**
 * The image of a loaded archive (`what`) that `ref` names (a name, or a tag of one), with the
 * name it matched: without a ref, the only image and its first name; the only image too when it
 * has no name (an OCI layout's ref may be a bare tag, `oci:DIR:v1`, that names no image).
 */
function pickLoaded<T extends { tags: string[] }>(loaded: T[], ref: string | undefined, what: string): { pick: T; name?: string } {
  if (ref === undefined) {
    if (loaded.length !== 1) throw new StrataError('USAGE', `${what} holds ${loaded.length} images; copy one by name`);
    return { pick: loaded[0], name: loaded[0].tags[0] };
  }
  let full: string | undefined;
  try {
    full = normalizeReference(ref);
  } catch {
    // a tag alone (oci:DIR:v1), not a name
  }
  const names = (t: string) => t === ref || t === full || t.endsWith(`:${ref}`);
  const hit = loaded.find((l) => l.tags.some(names));
  if (hit) return { pick: hit, name: hit.tags.find(names) };
  if (loaded.length === 1 && loaded[0].tags.length === 0) return { pick: loaded[0] };
  throw new StrataError('NOT_FOUND', `no image named ${JSON.stringify(ref)} in the archive (it holds ${loaded.flatMap((l) => l.tags).join(', ') || 'only untagged images'})`);
}

/** A push's reference: as given, or with the source's tag (else `latest`) when it names no tag or digest. */
function withTag(reference: Reference, tag: string | undefined): Reference {
  return reference.tag === undefined && reference.digest === undefined ? { ...reference, tag: tag ?? 'latest' } : reference;
}

/** One image into an oci-archive or docker-archive file, named by the destination's ref, else `name`. */
async function saveArchive(dest: { kind: 'oci-archive' | 'docker-archive'; file: string; ref?: string }, image: Image, name: string | undefined, tmpDir: string): Promise<void> {
  const { dockerArchive, ociArchive } = await import('@strata/image');
  const tag = dest.ref ? normalizeReference(dest.ref) : name;
  const entries = [{ image, tags: tag ? [tag] : [] }];
  await writeAtomically(dest.file, dest.kind === 'oci-archive' ? ociArchive(entries, { tmpDir }) : dockerArchive(entries, { tmpDir }));
}

type LayoutEnd = Extract<End, { kind: 'docker' }> | Extract<End, { kind: 'oci' }> | { kind: 'oci-archive'; file: string; ref?: string };

/** Ends `copyImage` can take, an oci-archive through a scratch layout. */
function isLayoutEnd(e: End): e is LayoutEnd {
  return e.kind === 'docker' || e.kind === 'oci' || e.kind === 'oci-archive';
}

/** An oci-archive's layout into `dir` (safe extraction: no entry lands outside it). */
async function unpackArchive(file: string, dir: string): Promise<void> {
  const { applyLayer } = await import('@strata/tar');
  if (!existsSync(file)) throw new StrataError('NOT_FOUND', `${file}: no such file`);
  const stream = createReadStream(file);
  try {
    await applyLayer(dir, stream, { whiteouts: 'keep', root: false, what: file });
  } finally {
    stream.destroy();
  }
  if (!existsSync(join(dir, 'oci-layout')) || !existsSync(join(dir, 'index.json'))) throw new StrataError('INVALID_ARCHIVE', `${file}: not an OCI archive (no oci-layout and index.json at its top)`);
}

/** A layout directory as an oci-archive: a tar of its files in sorted order, owned by root, dated 0 (the same layout, the same bytes). */
async function packLayout(dir: string): Promise<AsyncIterable<Uint8Array>> {
  const [{ walkTree }, { writeTar }] = await Promise.all([import('@strata/layer'), import('@strata/tar')]);
  function* entries() {
    for (const e of walkTree(dir)) yield { ...e, uid: 0, gid: 0, mtime: 0, mode: e.type === 'dir' ? 0o755 : 0o644 };
  }
  return writeTar(entries());
}

export function register(image: Command, io: Io): void {
  image
    .command('copy')
    .description('copy an image between registries, OCI layouts, archives and the store (docker://, oci:, oci-archive:, docker-archive:, or a plain reference for the store)')
    .argument('<source>', 'e.g. docker://localhost:5000/app:1')
    .argument('<destination>', 'e.g. oci:./layout:app')
    .option('--all-platforms', 'copy a whole index (its digest is kept)')
    .option('--platform <os/arch[/variant]>', 'the image to take from an index (default linux/amd64)')
    .option('--src-tls-verify <bool>', 'false: the source registry may use any certificate or plain http')
    .option('--dest-tls-verify <bool>', 'false: the destination registry may use any certificate or plain http')
    .option('--progress <mode>', 'auto, tty, plain or json (on stderr)', 'auto')
    .action(action(io, (ctx, s: string, d: string, flags: CopyFlags) => run(ctx, s, d, flags)));
}

