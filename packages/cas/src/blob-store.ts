import { closeSync, openSync, promises as fsp, readFileSync, readSync, write } from 'node:fs';
import { join } from 'node:path';
import { StrataError } from '@strata/errors';
import { Hasher, MediaType, digestHex, isDigest, type Digest } from '@strata/oci';
import { atomicWrite, fsyncDir, tempName } from './atomic-write';
import { createLease, leasedDigests, pidAlive, pidOfTempName } from './lease';
import { earlyWriteback } from './writeback';

export interface PutOptions {
  /** The digest the bytes must hash to (DIGEST_MISMATCH otherwise; nothing is stored). */
  expected?: Digest;
  /** The size the bytes must have (SIZE_MISMATCH otherwise; nothing is stored). */
  expectedSize?: number;
  /**
   * Called with each chunk once it is hashed and written: the source may then reuse its buffer. A
   * source that says so is written from its own buffers; any other's chunks are copied first (a
   * chunk is still being written while the next is read).
   */
  release?: (chunk: Uint8Array) => void;
  /**
   * Asked once the bytes are hashed and written, before they are committed: false leaves the
   * store as it was (the temp file is removed, nothing is renamed). The temp file's fsync runs
   * meanwhile in the thread pool, so the time `keep` takes (a COPY makes its cache key there) and
   * the sync's overlap.
   */
  keep?: (blob: { digest: Digest; size: number }) => boolean | Promise<boolean>;
}

export interface BlobStore {
  readonly root: string;
  /** ROOT/tmp: where temp files go (same filesystem as the blobs, so rename is atomic). */
  readonly tmpDir: string;
  /** ROOT/blobs/sha256/<hex> */
  path(digest: Digest): string;
  has(digest: Digest): Promise<boolean>;
  size(digest: Digest): Promise<number | undefined>;
  /** Streams the blob; throws StrataError BLOB_NOT_FOUND when it is missing. */
  open(digest: Digest): Promise<AsyncIterable<Uint8Array>>;
  /** Whole blob in memory: for small blobs (manifests, configs). */
  read(digest: Digest): Promise<Buffer>;
  /** Atomic + verified: temp file in ROOT/tmp, hash while writing, compare, fsync, rename. */
  put(src: AsyncIterable<Uint8Array>, opts?: PutOptions): Promise<{ digest: Digest; size: number }>;
  putBytes(bytes: Uint8Array | string, opts?: { expected?: Digest }): Promise<{ digest: Digest; size: number }>;
  /** Removes the blob; a missing blob is not an error. Callers hold the store lock (GC). */
  delete(digest: Digest): Promise<void>;
  /** Every blob file named like a sha256 digest. */
  list(): AsyncIterable<Digest>;
  /** Re-hash a stored blob: what it really hashes to and its size (BLOB_NOT_FOUND when missing). */
  verify(digest: Digest): Promise<{ ok: boolean; actual: Digest; size: number }>;
  /** Digests this process wrote are protected from other processes' GC until released
   *  (call once they are reachable from index.json) or until the process exits. */
  release(digests: Iterable<Digest>): void;
  /** Protect digests this process is about to reference (e.g. blobs it found already stored). */
  hold(digests: Iterable<Digest>): void;
  /**
   * GC primitive (caller holds the store lock): delete `candidates` except those leased by a
   * live process. Race-free against concurrent puts: candidates are first moved aside, leases
   * re-read, and any that became leased meanwhile are put back.
   */
  sweep(candidates: Iterable<Digest>): Promise<{ deleted: Digest[]; bytes: number }>;
  /** Remove temp files of dead processes from ROOT/tmp; returns count and bytes. */
  cleanTmp(): Promise<{ files: number; bytes: number }>;
}

/**
 * Crash tests stop a process at named points of its writes (the CLI's STRATA_TEST_PAUSE_AT):
 * called synchronously, it may block forever there.
 */
export type Checkpoint = (point: string) => void | Promise<void>;

export interface BlobStoreOptions {
  /** Called at `blob-synced` (a put's temp file complete), `blob-stored` (renamed into place) and `gc-aside` (a sweep's candidates moved out). */
  checkpoint?: Checkpoint;
}

const CHUNK = 256 * 1024;
export const OCI_LAYOUT = '{"imageLayoutVersion":"1.0.0"}';
const EMPTY_INDEX = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [] });

function notFound(digest: Digest, cause?: unknown): StrataError {
  return new StrataError('BLOB_NOT_FOUND', `blob ${digest} not found in the store`, { cause });
}

function isEnoent(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/** How many writes a put keeps in flight (each CHUNK or a source's whole chunk). */
const IN_FLIGHT = 4;

/**
 * Writes a blob's bytes in order through the thread pool, a few writes at a time, so the kernel's
 * side of a write (copying into the page cache: ~2 ms a MiB in memory the VM has not handed out
 * before) runs on the other core while the source reads and packs, and the put hashes, what comes
 * next. A chunk its source lends (`release`) is written as it is and given back once written; any
 * other is first copied into one of the writer's CHUNK buffers (small network reads are gathered
 * there too, so no write is smaller than CHUNK but the last). The first failure is thrown by the
 * next `write` or by `end`; `settle` waits for what is in flight whatever happened, so the
 * descriptor is never closed under a write. What is written is flushed early (`earlyWriteback`).
 */
function pipelinedWriter(fd: number) {
  const writeback = earlyWriteback(fd);
  let at = 0;
  let inFlight = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const spare: Buffer[] = [];
  let stage: Buffer | undefined;
  let staged = 0;
  const landed = () => {
    inFlight--;
    const w = wake;
    wake = undefined;
    w?.();
  };
  const send = (buf: Uint8Array, len: number, done: () => void) => {
    const pos = at;
    at += len;
    writeback.wrote(len);
    inFlight++;
    const step = (off: number) =>
      write(fd, buf, off, len - off, pos + off, (err, n) => {
        if (!err && n > 0 && off + n < len) return step(off + n);
        if (err || off + n < len) failure ??= err ?? new StrataError('IO_ERROR', `a write of the blob's temp file wrote nothing`);
        done();
        landed();
      });
    step(0);
  };
  const waitBelow = async (n: number) => {
    while (inFlight > n) await new Promise<void>((r) => (wake = r));
  };
  const flushStage = () => {
    const b = stage!;
    send(b, staged, () => spare.push(b));
    stage = undefined;
    staged = 0;
  };
  return {
    async write(chunk: Uint8Array, release?: (chunk: Uint8Array) => void): Promise<void> {
      if (failure !== undefined) throw failure;
      if (release !== undefined && staged === 0 && chunk.length >= CHUNK) {
        await waitBelow(IN_FLIGHT - 1);
        send(chunk, chunk.length, () => release(chunk));
        return;
      }
      for (let off = 0; off < chunk.length; ) {
        if (stage === undefined) {
          await waitBelow(IN_FLIGHT - 1);
          stage = spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
        }
        const n = Math.min(chunk.length - off, CHUNK - staged);
        stage.set(chunk.subarray(off, off + n), staged);
        staged += n;
        off += n;
        if (staged === CHUNK) flushStage();
      }
      release?.(chunk);
    },
    async end(): Promise<void> {
      if (staged > 0) flushStage();
      // not the early flush in flight: the put's fsync comes next and covers it (`settle` waits for it)
      await waitBelow(0);
      if (failure !== undefined) throw failure;
    },
    settle: async () => {
      await waitBelow(0);
      await writeback.settled();
    },
  };
}

/**
 * Open (creating when missing) the OCI image layout at `root`: `oci-layout`, `index.json`,
 * `blobs/sha256/`, plus `tmp/` for in-flight writes. Creation is race-free between processes:
 * files appear complete or not at all (link of a finished temp file).
 */
export async function openBlobStore(root: string, opts: BlobStoreOptions = {}): Promise<BlobStore> {
  const checkpoint = opts.checkpoint ?? (() => undefined);
  const blobDir = join(root, 'blobs', 'sha256');
  const tmpDir = join(root, 'tmp');
  await fsp.mkdir(blobDir, { recursive: true });
  await fsp.mkdir(tmpDir, { recursive: true });
  await ensureFile(join(root, 'oci-layout'), OCI_LAYOUT, tmpDir);
  await ensureFile(join(root, 'index.json'), EMPTY_INDEX, tmpDir);

  const path = (digest: Digest) => join(blobDir, digestHex(digest));
  const lease = createLease(tmpDir);

  async function putStream(src: AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<{ digest: Digest; size: number }> {
    if (opts.expected !== undefined && !isDigest(opts.expected)) throw new StrataError('INVALID_DIGEST', `invalid digest "${opts.expected}"`);
    // Lease before the blob can exist or be found, so a concurrent GC keeps it (see lease.ts).
    if (opts.expected !== undefined) lease.add(opts.expected);
    // Content we already hold is hashed (to verify the claim and drain the source) but not rewritten.
    const existing = opts.expected !== undefined ? await statSize(path(opts.expected)) : undefined;
    const already = existing !== undefined && (opts.expectedSize === undefined || existing === opts.expectedSize);
    const h = new Hasher();
    const tmp = already ? undefined : tempName(tmpDir, 'blob');
    const fh = tmp ? await fsp.open(tmp, 'wx', 0o644) : undefined;
    let syncing: Promise<void> | undefined;
    let kept = true;
    const out = fh ? pipelinedWriter(fh.fd) : undefined;
    try {
      for await (const chunk of src) {
        h.update(chunk);
        if (opts.expectedSize !== undefined && h.size > opts.expectedSize) {
          throw new StrataError('SIZE_MISMATCH', `content is larger than its declared size ${opts.expectedSize}${opts.expected ? ` (${opts.expected})` : ''}`);
        }
        if (out) await out.write(chunk, opts.release);
        else opts.release?.(chunk);
      }
      await out?.end();
      const digest = h.digest();
      const size = h.size;
      if (opts.expectedSize !== undefined && size !== opts.expectedSize) {
        throw new StrataError('SIZE_MISMATCH', `content is ${size} bytes, expected ${opts.expectedSize}${opts.expected ? ` (${opts.expected})` : ''}`);
      }
      if (opts.expected !== undefined && digest !== opts.expected) {
        throw new StrataError('DIGEST_MISMATCH', `content hashes to ${digest}, expected ${opts.expected}`);
      }
      if (fh && opts.keep !== undefined) {
        syncing = fh.sync();
        syncing.catch(() => undefined); // awaited below when kept; a failure matters only then
      }
      if (opts.keep !== undefined && !(await opts.keep({ digest, size }))) {
        kept = false;
        return { digest, size };
      }
      if (fh && tmp) {
        lease.add(digest);
        await (syncing ?? fh.sync());
        syncing = undefined;
        await fh.close();
        await checkpoint('blob-synced');
        await fsp.rename(tmp, path(digest));
        await fsyncDir(blobDir);
        await checkpoint('blob-stored');
      }
      return { digest, size };
    } finally {
      // writes still in flight (a failure mid-way) end before their descriptor is closed
      await out?.settle();
      // A sync still running is not waited for when the bytes are not kept: FileHandle.close waits
      // for it (the descriptor is never closed under it), and the temp file goes at once.
      if (fh && syncing !== undefined && !kept) void fh.close().catch(() => undefined);
      else if (fh) await fh.close().catch(() => undefined);
      if (tmp) await fsp.rm(tmp, { force: true }).catch(() => undefined);
    }
  }

  async function statSize(p: string): Promise<number | undefined> {
    try {
      return (await fsp.stat(p)).size;
    } catch (err) {
      if (isEnoent(err)) return undefined;
      throw err;
    }
  }

  async function openBlob(digest: Digest): Promise<AsyncIterable<Uint8Array>> {
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(path(digest), 'r');
    } catch (err) {
      if (isEnoent(err)) throw notFound(digest, err);
      throw err;
    }
    return fh.createReadStream({ highWaterMark: CHUNK, autoClose: true });
  }

  return {
    root,
    tmpDir,
    path,
    has: async (digest) => (await statSize(path(digest))) !== undefined,
    size: (digest) => statSize(path(digest)),
    open: openBlob,
    read: async (digest) => {
      try {
        // Sync: reads of small blobs are 2-3x faster without the thread-pool round trips (PERF-NOTES).
        return readFileSync(path(digest));
      } catch (err) {
        if (isEnoent(err)) throw notFound(digest, err);
        throw err;
      }
    },
    put: putStream,
    putBytes: (bytes, opts = {}) => {
      const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
      return putStream(
        (async function* () {
          yield buf;
        })(),
        { expected: opts.expected },
      );
    },
    delete: async (digest) => {
      await fsp.rm(path(digest), { force: true });
    },
    list: async function* () {
      let names: string[];
      try {
        names = await fsp.readdir(blobDir);
      } catch (err) {
        if (isEnoent(err)) return;
        throw err;
      }
      for (const n of names.sort()) {
        const d = `sha256:${n}`;
        if (isDigest(d)) yield d;
      }
    },
    release: (digests) => lease.release(digests),
    hold: (digests) => {
      for (const d of digests) lease.add(d);
    },
    sweep: async (candidates) => {
      const leased = await leasedDigests(tmpDir);
      const moved: Array<{ digest: Digest; aside: string; size: number }> = [];
      for (const digest of candidates) {
        if (leased.has(digest)) continue;
        const aside = tempName(tmpDir, 'gc');
        try {
          const size = (await fsp.stat(path(digest))).size;
          await fsp.rename(path(digest), aside);
          moved.push({ digest, aside, size });
        } catch (err) {
          if (!isEnoent(err)) throw err;
        }
      }
      if (moved.length) await checkpoint('gc-aside');
      const leasedNow = await leasedDigests(tmpDir);
      const deleted: Digest[] = [];
      let bytes = 0;
      for (const m of moved) {
        if (leasedNow.has(m.digest)) {
          // A writer claimed it while we were sweeping: put it back unless it rewrote it already.
          await fsp.link(m.aside, path(m.digest)).catch((err) => {
            if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          });
        } else {
          deleted.push(m.digest);
          bytes += m.size;
        }
        await fsp.rm(m.aside, { force: true });
      }
      if (moved.length) await fsyncDir(blobDir);
      return { deleted, bytes };
    },
    cleanTmp: async () => {
      let files = 0;
      let bytes = 0;
      for (const n of await fsp.readdir(tmpDir)) {
        const pid = pidOfTempName(n);
        const p = join(tmpDir, n);
        let st;
        try {
          st = await fsp.lstat(p);
        } catch {
          continue;
        }
        // Names without a pid are not ours to judge quickly: remove them once they are an hour old.
        const stale = pid !== undefined ? !pidAlive(pid) : Date.now() - st.mtimeMs > 3600_000;
        if (!stale) continue;
        await fsp.rm(p, { recursive: true, force: true });
        files++;
        bytes += st.isFile() ? st.size : 0;
      }
      return { files, bytes };
    },
    verify: async (digest) => {
      // Sync positional reads into one buffer: the fastest way to hash a file in Node (PERF-NOTES).
      let fd: number;
      try {
        fd = openSync(path(digest), 'r');
      } catch (err) {
        if (isEnoent(err)) throw notFound(digest, err);
        throw err;
      }
      const h = new Hasher();
      const buf = Buffer.allocUnsafe(CHUNK);
      try {
        for (;;) {
          const n = readSync(fd, buf, 0, CHUNK, null);
          if (n === 0) break;
          h.update(buf.subarray(0, n));
        }
      } finally {
        closeSync(fd);
      }
      const actual = h.digest();
      return { ok: actual === digest, actual, size: h.size };
    },
  };
}

async function ensureFile(path: string, content: string, tmpDir: string): Promise<void> {
  try {
    await fsp.access(path);
  } catch (err) {
    if (!isEnoent(err)) throw err;
    await atomicWrite(path, content, { tmpDir, exclusive: true });
  }
}
