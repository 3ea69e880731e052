// The descriptor-based path helpers (docs/PATH-SAFETY.md): what they reach, and what they refuse
// when a tree changes between a walk and its use.
import { afterAll, describe, expect, it } from 'vitest';
import { closeSync, linkSync, lstatSync, mkdirSync, readFileSync, readSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTempDirs, tempDir } from '@strata/testing';
import { isStrataError } from '@strata/errors';
import { beneathReader, openRoot, removeAt, resolveBeneath } from '../src';

afterAll(() => cleanupTempDirs());

function read(fd: number): string {
  const b = Buffer.alloc(256);
  try {
    return b.subarray(0, readSync(fd, b, 0, b.length, 0)).toString();
  } finally {
    closeSync(fd);
  }
}

const idOf = (path: string) => {
  const st = lstatSync(path);
  return { dev: st.dev, ino: st.ino };
};

/** A tree `root/a/b/{f,g}`, `root/a/h`, `root/top`, and `outside/{f,g}` beside it with other bytes. */
function tree(): { root: string; outside: string } {
  const dir = tempDir('strata-beneath-');
  const root = join(dir, 'root');
  const outside = join(dir, 'outside');
  mkdirSync(join(root, 'a', 'b'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, 'a', 'b', 'f'), 'inside f');
  writeFileSync(join(root, 'a', 'b', 'g'), 'inside g');
  writeFileSync(join(root, 'a', 'h'), 'inside h');
  writeFileSync(join(root, 'top'), 'inside top');
  writeFileSync(join(outside, 'f'), 'outside f');
  writeFileSync(join(outside, 'g'), 'outside g');
  return { root, outside };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isStrataError(err) ? err.code : `not a StrataError: ${String(err)}`;
  }
  return undefined;
}

describe('beneathReader', () => {
  it('opens the files a walk listed, in walk order and out of it', () => {
    const { root } = tree();
    const ids = Object.fromEntries(['a/b/f', 'a/b/g', 'a/h', 'top'].map((p) => [p, idOf(join(root, p))]));
    const r = beneathReader(root);
    try {
      for (const p of ['a/b/f', 'a/b/g', 'a/h', 'top', 'a/b/f']) expect(read(r.openFile(p, ids[p]))).toBe(`inside ${p.split('/').pop()}`);
      expect(r.lstat('a/b')?.isDirectory()).toBe(true);
      expect(r.lstat('a/missing/x')).toBeUndefined();
      expect(r.lstat('nothing')).toBeUndefined();
    } finally {
      r.close();
    }
    // usable again after close
    expect(read(r.openFile('top', ids.top))).toBe('inside top');
    r.close();
  });

  it('refuses a directory on the way swapped for a symlink, even to a file of the same inode name', () => {
    const { root, outside } = tree();
    const id = idOf(join(root, 'a', 'b', 'f'));
    const r = beneathReader(root);
    try {
      renameSync(join(root, 'a', 'b'), join(root, '..', 'b-away'));
      symlinkSync(outside, join(root, 'a', 'b'));
      expect(codeOf(() => r.openFile('a/b/f', id))).toBe('UNSAFE_PATH');
      // what the walk would have seen through the symlink is refused too: not reached through a symlink
      expect(codeOf(() => r.openFile('a/b/f', idOf(join(outside, 'f'))))).toBe('UNSAFE_PATH');
      expect(r.lstat('a/b/f')).toBeUndefined();
    } finally {
      r.close();
    }
  });

  it('refuses a file swapped for a symlink, or for another file', () => {
    const { root, outside } = tree();
    const id = idOf(join(root, 'top'));
    // the original stays alive under another name outside, so no new file can get its inode
    linkSync(join(root, 'top'), join(outside, 'kept'));
    rmSync(join(root, 'top'));
    symlinkSync(join(outside, 'f'), join(root, 'top'));
    const r = beneathReader(root);
    try {
      expect(codeOf(() => r.openFile('top', id))).toBe('UNSAFE_PATH');
      writeFileSync(join(root, 'top'), 'another file');
      expect(codeOf(() => r.openFile('top', id))).toBe('UNSAFE_PATH');
      rmSync(join(root, 'top'));
      expect(codeOf(() => r.openFile('top', id))).toBe('IO_ERROR');
      expect(codeOf(() => r.openFile('../outside/f', id))).toBe('UNSAFE_PATH');
      expect(codeOf(() => r.openFile('/etc/passwd', id))).toBe('UNSAFE_PATH');
    } finally {
      r.close();
    }
  });
});

describe('resolveBeneath and removeAt', () => {
  it('resolves symlinks as a chroot would and removes without following', () => {
    const { root, outside } = tree();
    symlinkSync('/a/b', join(root, 'abs'));
    symlinkSync('../../..', join(root, 'a', 'up'));
    symlinkSync(outside, join(root, 'a', 'b', 'out'));
    const rootFd = openRoot(root);
    try {
      const viaAbs = resolveBeneath(rootFd, 'abs/f');
      expect(viaAbs?.path).toBe('a/b/f');
      closeSync(viaAbs!.fd);
      const viaUp = resolveBeneath(rootFd, 'a/up/top');
      expect(viaUp?.path).toBe('top');
      closeSync(viaUp!.fd);
      // an absolute link to a directory outside starts over at the root, where it is missing
      expect(resolveBeneath(rootFd, 'a/b/out/f')).toBeUndefined();
      removeAt(rootFd, 'a');
      expect(() => lstatSync(join(root, 'a'))).toThrow();
      expect(readFileSync(join(outside, 'f'), 'utf8')).toBe('outside f');
    } finally {
      closeSync(rootFd);
    }
  });
});
