import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, tempDir } from '@strata/testing';
import { fileSystemNow } from './fs-clock';

afterAll(cleanupTempDirs);

describe('fileSystemNow', () => {
  it('is the mtime a new file gets, and leaves nothing behind', () => {
    const dir = tempDir();
    const t = fileSystemNow(dir);
    writeFileSync(join(dir, 'after'), '');
    const { mtimeMs } = statSync(join(dir, 'after'));
    expect(t).toBeLessThanOrEqual(mtimeMs);
    expect(mtimeMs - t).toBeLessThan(1000);
    expect(readdirSync(dir)).toEqual(['after']);
  });

  it('makes a missing directory, and falls back to the process clock where it cannot write', () => {
    const dir = join(tempDir(), 'a', 'b');
    expect(fileSystemNow(dir)).toBeGreaterThan(0);
    expect(readdirSync(dir)).toEqual([]);
    const file = join(tempDir(), 'f');
    writeFileSync(file, '');
    const before = Date.now();
    const t = fileSystemNow(join(file, 'under-a-file'));
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
  });
});
