import { createReadStream } from 'node:fs';
import { StrataError, isStrataError } from '@strata/errors';
import { isTarHeader, readTar } from '@strata/tar';
import { sha256, type ImageConfig, type RuntimeConfig } from '@strata/oci';
import { applyChanges } from './changes';
import { commitImages, type ArchiveSource } from './load';
import { createStaging } from './staging';
import type { ImageSink } from './store-sink';
import { peek } from './decode';

export interface ImportOptions {
  root: string;
  openStore: () => Promise<ImageSink>;
  /** A root filesystem tar, possibly gzip/zstd/xz/bzip2-compressed (detected by content). */
  source: ArchiveSource;
  /** Normalised reference to tag the image with (none: dangling, as `docker import` without a name). */
  tag?: string;
  /** `--change` instructions (CMD, ENTRYPOINT, ENV, …). */
  changes?: string[];
  /** Commit message; Docker's default is "Imported from -" (the CLI streams the file). */
  message?: string;
  /** Creation time (default now). */
  created?: string;
  /** Crash tests stop here: `staged`, then the commit's points (see `LoadOptions.checkpoint`). */
  checkpoint?: (point: string) => void | Promise<void>;
}

/** The runtime config Docker writes for an imported image: every field present, zero-valued. */
const ZERO_CONFIG: RuntimeConfig = {
  Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false,
  OpenStdin: false, StdinOnce: false, Env: null as unknown as string[], Cmd: null, Image: '', Volumes: null, WorkingDir: '',
  Entrypoint: null, OnBuild: null, Labels: null,
};

/** Walk a staged tar to be sure it is one, and that no member escapes the root. */
async function checkRootfsTar(file: string, what: string): Promise<void> {
  const src = createReadStream(file, { highWaterMark: 1024 * 1024 });
  const { head, rest } = await peek(src, 512);
  if (head.length === 0) throw new StrataError('INVALID_TAR', `${what} is empty, not a tar archive`);
  if (!isTarHeader(head.subarray(0, 512))) throw new StrataError('INVALID_TAR', `${what} is not a tar archive`);
  try {
    // readTar refuses a member whose name escapes the root (UNSAFE_PATH), whatever else it is.
    for await (const _ of readTar(rest, { what })) void _;
  } catch (err) {
    if (err instanceof StrataError && !isStrataError(err, 'INVALID_TAR')) throw err;
    throw new StrataError('INVALID_TAR', `${what} is not a valid tar archive (${(err as Error).message})`, { cause: err });
  } finally {
    src.destroy();
  }
}

/**
 * `image import`: a root filesystem tar becomes a one-layer image, as `docker import` makes it
 * (amd64/linux, history `{created, comment}`, Docker's zero-valued runtime config plus `--change`).
 * The layer is the decompressed input byte for byte, so its diffID equals Docker's.
 */
export async function importRootfs(opts: ImportOptions): Promise<{ id: string; tags: string[] }> {
  const staging = createStaging(opts.root, 'import', opts.checkpoint);
  let ok = false;
  try {
    const what = 'stream' in opts.source ? (opts.source.name ?? 'stdin') : opts.source.path;
    const src = 'stream' in opts.source ? opts.source.stream : createReadStream(opts.source.path, { highWaterMark: 1024 * 1024 });
    const blob = await staging.stage(src, what);
    await checkRootfsTar(blob.file, what);
    const created = opts.created ?? new Date().toISOString();
    const comment = opts.message || 'Imported from -';
    const config: ImageConfig = {
      architecture: 'amd64',
      comment,
      config: applyChanges(ZERO_CONFIG, opts.changes ?? []),
      container_config: { ...ZERO_CONFIG },
      created,
      history: [{ created, comment }],
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [blob.diffId] },
    };
    const rawConfig = Buffer.from(JSON.stringify(config));
    const [stored] = await commitImages(opts, staging, [
      { rawConfig, config, configDigest: sha256(rawConfig), layers: [blob], tags: opts.tag ? [opts.tag] : [] },
    ]);
    ok = true;
    return stored;
  } finally {
    if (ok) staging.finish();
    else staging.discard();
  }
}
