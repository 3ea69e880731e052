import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A unique temp file name inside `tmpDir` (prefix says what it is for, to help `store gc`). */
export function tempName(tmpDir: string, prefix: string): string {
  return join(tmpDir, `${prefix}-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** fsync a directory so a rename or unlink inside it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } catch (err) {
    // Some filesystems refuse fsync on directories; the rename is still atomic there.
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL' && (err as NodeJS.ErrnoException).code !== 'EISDIR') throw err;
  } finally {
    await fh.close();
  }
}

export interface AtomicWriteOptions {
  /** Where the temp file goes (same filesystem as `path`); default: beside `path`. */
  tmpDir?: string;
  /** Only create: fail with EEXIST instead of replacing an existing file. */
  exclusive?: boolean;
  /** File mode (default 0o644); 0o600 for secrets such as saved logins. */
  mode?: number;
}

/**
 * Write a whole file so readers see the old or the new content, never a mix: temp file, fsync,
 * rename (or link when `exclusive`), fsync the directory. Returns false when `exclusive` and the
 * file already existed.
 */
export async function atomicWrite(path: string, data: Uint8Array | string, opts: AtomicWriteOptions = {}): Promise<boolean> {
  const tmp = tempName(opts.tmpDir ?? dirname(path), `.${basename(path)}`);
  const fh = await fsp.open(tmp, 'wx', opts.mode ?? 0o644);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (opts.exclusive) {
      try {
        await fsp.link(tmp, path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw err;
      }
    } else {
      await fsp.rename(tmp, path);
    }
    await fsyncDir(dirname(path));
    return true;
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}
