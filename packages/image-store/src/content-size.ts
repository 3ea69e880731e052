import { closeSync, openSync, readSync } from 'node:fs';

const BLOCK = 512;
const pad = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

function octal(b: Buffer, start: number, len: number): number {
  if (b[start] & 0x80) {
    // GNU base-256 for large values
    let v = b[start] & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[start + i];
    return v;
  }
  const s = b.toString('latin1', start, start + len).replace(/\0.*$/s, '').trim();
  return s ? parseInt(s, 8) : 0;
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  return octal(h, 148, 8) === sum;
}

function paxSize(data: Buffer): number | undefined {
  const m = /(?:^|\n)\d+ size=(\d+)\n/.exec(data.toString('latin1'));
  return m ? Number(m[1]) : undefined;
}

/**
 * Docker's size of an uncompressed layer tar on disk: the bytes of its regular files (hard links,
 * symlinks, directories and whiteouts count 0) — what `docker image ls` shows, not the tar's
 * length. Reads only headers, seeking over file data. Undefined when the file is not a tar.
 */
export function layerContentSize(path: string): number | undefined {
  const fd = openSync(path, 'r');
  try {
    const h = Buffer.alloc(BLOCK);
    let pos = 0;
    let total = 0;
    let nextSize: number | undefined;
    for (;;) {
      if (readSync(fd, h, 0, BLOCK, pos) < BLOCK) return total; // truncated / no end blocks
      if (h.every((x) => x === 0)) return total;
      if (!checksumOk(h)) return undefined;
      const type = String.fromCharCode(h[156]);
      const size = octal(h, 124, 12);
      pos += BLOCK;
      if (type === 'x') {
        const data = Buffer.alloc(size);
        readSync(fd, data, 0, size, pos);
        nextSize = paxSize(data) ?? nextSize;
        pos += pad(size);
        continue;
      }
      if (type === 'g' || type === 'L' || type === 'K') {
        pos += pad(size);
        continue;
      }
      const real = nextSize ?? size;
      nextSize = undefined;
      if (type === '0' || type === '\0' || type === '7') total += real;
      // Only these types carry data; for the others the header size is 0 (or ignored).
      if (type === '0' || type === '\0' || type === '7') pos += pad(real);
    }
  } finally {
    closeSync(fd);
  }
}
