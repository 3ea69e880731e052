import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, symlinkSync, linkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, tempDir } from '@strata/testing';
import { layerEntries } from './layer-entries';
import { layerUsage } from './layer-usage';

afterAll(() => cleanupTempDirs());

async function* once(b: Buffer) {
  yield b;
}

async function makeTar(format: 'gnu' | 'pax' | 'ustar'): Promise<string> {
  const dir = await tempDir();
  const src = join(dir, 'src');
  const long = 'd'.repeat(120);
  mkdirSync(join(src, 'a', long), { recursive: true });
  writeFileSync(join(src, 'a', long, 'file.txt'), 'x'.repeat(1000));
  writeFileSync(join(src, 'a', 'small'), 'hello\n');
  linkSync(join(src, 'a', 'small'), join(src, 'a', 'hard'));
  symlinkSync('small', join(src, 'a', 'sym'));
  writeFileSync(join(src, 'a', '.wh.gone'), '');
  const tar = join(dir, `${format}.tar`);
  const names = format === 'ustar' ? ['a/small', 'a/hard', 'a/sym', 'a/.wh.gone'] : ['a'];
  execFileSync('tar', ['--format', format, '-C', src, '-cf', tar, ...names]);
  return tar;
}

describe.each(['gnu', 'pax', 'ustar'] as const)('%s tar', (format) => {
  it('file and stream reads agree and count like Docker', async () => {
    const tar = await makeTar(format);
    const fromFile = await layerEntries({ path: tar });
    const fromStream = await layerEntries({ open: async () => createReadStream(tar, { highWaterMark: 700 }) });
    expect(fromStream).toEqual(fromFile.map((e) => { const { offset: _o, ...rest } = e as typeof e & { offset: number }; return rest; }));
    const u = layerUsage(fromFile);
    expect(u.size).toBe(format === 'ustar' ? 6 : 1006);
    expect(u.hardlinks).toBe(1);
    expect(u.symlinks).toBe(1);
    expect(u.whiteouts).toBe(1);
    if (format !== 'ustar') expect(fromFile.some((e) => e.path === `a/${'d'.repeat(120)}/file.txt` && e.size === 1000)).toBe(true);
    expect(fromFile.find((e) => e.type === 'symlink')?.linkname).toBe('small');
  });
});

it('a truncated stream is an INVALID_TAR error', async () => {
  const tar = await makeTar('gnu');
  const buf = (await import('node:fs')).readFileSync(tar);
  await expect(layerEntries({ open: async () => once(buf.subarray(0, 1500)) })).rejects.toMatchObject({ code: 'INVALID_TAR' });
});

it('a giant PAX header is refused, not allocated', async () => {
  const block = Buffer.alloc(1024);
  block.write('././@PaxHeader', 0);
  block.write('0000644\0', 100);
  block.write('77777777777\0', 124); // ~8 GiB
  block.write('x', 156);
  block.write('ustar\x0000', 257);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : block[i];
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  await expect(layerEntries({ open: async () => once(block) })).rejects.toThrow(/too large/);
});
