// The HTML report opened in headless Chromium (Debian's `chromium`), screenshotted, and the
// picture checked: it rendered (Chromium exited 0, wrote a PNG of the requested size), it is not
// blank, and the treemap's layer colours are on it. No network: the page loads nothing.
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, peerAvailable, runStrata, tempDir } from '@strata/testing';
import { writeFixtureArchive } from './fixture-image';

/** Decode an 8-bit RGB(A), non-interlaced PNG (what Chromium writes) into RGBA pixels. */
function decodePng(buf: Buffer): { width: number; height: number; pixels: Buffer } {
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels = 4;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error('only 8-bit non-interlaced PNGs');
      channels = data[9] === 6 ? 4 : data[9] === 2 ? 3 : 0;
      if (!channels) throw new Error(`colour type ${data[9]}`);
    } else if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = Buffer.alloc(width * height * 4);
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? line[i - channels] : 0;
      const b = prev[i];
      const c = i >= channels ? prev[i - channels] : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : f === 4 ? (pa <= pb && pa <= pc ? a : pb <= pc ? b : c) : 0;
      line[i] = (line[i] + pred) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      for (let k = 0; k < 3; k++) out[(y * width + x) * 4 + k] = line[x * channels + k];
      out[(y * width + x) * 4 + 3] = channels === 4 ? line[x * channels + 3] : 255;
    }
    prev = line;
  }
  return { width, height, pixels: out };
}

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars'];

describe.skipIf(!peerAvailable('chromium'))('HTML report in headless Chromium', () => {
  let dir = '';
  let archive = '';
  beforeAll(async () => {
    dir = await tempDir();
    archive = join(dir, 'fixture.tar');
    await writeFixtureArchive(archive);
  });
  afterAll(() => cleanupTempDirs());

  it('renders without errors: a screenshot of the right size, not blank, with the layer colours', async () => {
    const html = join(dir, 'report.html');
    const r = await runStrata(['image', 'report', `docker-archive:${archive}`, '-o', html], { root: join(dir, 'store') });
    expect([r.code, r.stderr]).toEqual([0, `wrote ${html}\n`]);
    const png = join(dir, 'report.png');
    execFileSync('chromium', [...CHROMIUM_FLAGS, `--user-data-dir=${join(dir, 'profile')}`, '--window-size=1280,1400', `--screenshot=${png}`, `file://${html}`], { stdio: 'pipe', timeout: 90_000 });
    // Kept for people to look at (the issue asks for it): the last run's picture.
    copyFileSync(png, '/tmp/strata-report-screenshot.png');
    const img = decodePng(readFileSync(png));
    expect([img.width, img.height]).toEqual([1280, 1400]);
    const colours = new Map<number, number>();
    let ink = 0;
    for (let i = 0; i < img.pixels.length; i += 4) {
      const [r0, g, b] = [img.pixels[i], img.pixels[i + 1], img.pixels[i + 2]];
      if (r0 < 240 || g < 240 || b < 240) ink++;
      const key = (r0 >> 3) * 1024 + (g >> 3) * 32 + (b >> 3);
      colours.set(key, (colours.get(key) ?? 0) + 1);
    }
    expect(ink / (img.width * img.height)).toBeGreaterThan(0.15);
    // layer 0's colour, hsl(200, 62%, 58%) ≈ rgb(81, 166, 214), fills most of the treemap
    const layer0 = [...colours].filter(([k]) => Math.abs((k >> 10) * 8 - 81) <= 12 && Math.abs(((k >> 5) & 31) * 8 - 166) <= 12 && Math.abs((k & 31) * 8 - 214) <= 12).reduce((a, [, n]) => a + n, 0);
    expect(layer0).toBeGreaterThan(50_000);
  }, 120_000);

  it('--svg writes the treemap alone; -o - writes to stdout', async () => {
    const r = await runStrata(['image', 'report', `docker-archive:${archive}`, '--svg', '-o', '-'], { root: join(dir, 'store') });
    expect(r.code).toBe(0);
    expect(r.out.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    // every file version is a rectangle: 4 + 2 + 1 (the moved tool twice) + the deleted package
    expect((r.out.match(/<g class="file/g) ?? []).length).toBe(8);
    expect((r.out.match(/<g class="file wasted"/g) ?? []).length).toBe(3);
    const bad = await runStrata(['image', 'report', `docker-archive:${join(dir, 'nope.tar')}`, '-o', '-'], { root: join(dir, 'store') });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });
});
