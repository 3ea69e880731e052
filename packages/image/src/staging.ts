import { closeSync, fsync, mkdirSync, openSync, rmdirSync, rmSync, writeSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { earlyWriteback } from '@strata/cas';
import { Hasher, type Digest } from '@strata/oci';
import { decompress } from '@strata/layer';
import { sniff, type Encoding } from './decode';

/** A blob written to the staging area, uncompressed, with the digests of both forms. */
export interface StagedBlob {
  /** Digest and size of the bytes as they came (the descriptor's). */
  rawDigest: Digest;
  rawSize: number;
  encoding: Encoding;
  /** Digest and size of the uncompressed bytes (= diffID for a layer). */
  diffId: Digest;
  size: number;
  /** The uncompressed bytes. */
  file: string;
}

/**
 * A private directory under ROOT/tmp where a load writes everything before it is verified.
 * Nothing reaches the store proper until `commit`; `discard` leaves the root exactly as found,
 * including removing the directories it had to create (even the root itself).
 */
export interface Staging {
  readonly dir: string;
  stage(src: AsyncIterable<Uint8Array>, what: string): Promise<StagedBlob>;
  /** Wait for the fsyncs started when each blob was finished. */
  synced(): Promise<void>;
  /** Success: remove what is left of the staging directory. */
  finish(): void;
  /** Failure: remove the staging directory and every directory created for it. */
  discard(): void;
}

/** `checkpoint`: crash tests stop there (`staged` after each blob is written). */
export function createStaging(root: string, purpose = 'load', checkpoint?: (point: string) => void | Promise<void>): Staging {
  const tmp = join(root, 'tmp');
  // Remember the highest directory we create, to remove exactly those again on failure.
  const created: string[] = [];
  for (let d = tmp; !existsSync(d); d = dirname(d)) created.unshift(d);
  mkdirSync(tmp, { recursive: true });
  const dir = join(tmp, `${purpose}-${process.pid}-${randomBytes(6).toString('hex')}`);
  mkdirSync(dir);
  let n = 0;
  const fsyncs: Array<Promise<void>> = [];

  async function stage(src: AsyncIterable<Uint8Array>, what: string): Promise<StagedBlob> {
    const file = join(dir, `blob-${n++}`);
    const fd = openSync(file, 'wx', 0o644);
    // the staged tar reaches the disk as it is written: commit's wait for the fsyncs stays short
    const writeback = earlyWriteback(fd);
    const write = (chunk: Uint8Array) => {
      writeAll(fd, chunk);
      writeback.wrote(chunk.byteLength);
    };
    let closed = false;
    try {
      const { encoding, stream } = await sniff(src);
      const raw = new Hasher();
      const out = new Hasher();
      if (encoding === 'none') {
        for await (const chunk of stream) {
          raw.update(chunk);
          write(chunk);
        }
      } else {
        const tapped = (async function* () {
          for await (const chunk of stream) {
            raw.update(chunk);
            yield chunk;
          }
        })();
        for await (const chunk of decompress(tapped, encoding, what)) {
          out.update(chunk);
          write(chunk);
        }
      }
      const rawDigest = raw.digest();
      const plain = encoding === 'none' ? { digest: rawDigest, size: raw.size } : { digest: out.digest(), size: out.size };
      // fsync in the thread pool while the next member is read, after the early flush in flight;
      // closed once synced.
      closed = true;
      fsyncs.push(
        writeback.settled().then(
          () =>
            new Promise<void>((resolve, reject) =>
              fsync(fd, (err) => {
                closeSync(fd);
                if (err) reject(err);
                else resolve();
              }),
            ),
        ),
      );
      await checkpoint?.('staged');
      return { rawDigest, rawSize: raw.size, encoding, diffId: plain.digest, size: plain.size, file };
    } finally {
      // never closed under the early flush (the descriptor could be reused meanwhile)
      if (!closed) await writeback.settled().finally(() => closeSync(fd));
    }
  }

  return {
    dir,
    stage,
    synced: async () => {
      await Promise.all(fsyncs);
    },
    finish: () => {
      rmSync(dir, { recursive: true, force: true });
    },
    discard: () => {
      rmSync(dir, { recursive: true, force: true });
      for (const d of [...created].reverse()) {
        try {
          rmdirSync(d);
        } catch {
          break; // someone else put something there meanwhile: leave it
        }
      }
    },
  };
}

function writeAll(fd: number, chunk: Uint8Array): void {
  let off = 0;
  while (off < chunk.byteLength) off += writeSync(fd, chunk, off, chunk.byteLength - off);
}
