// A small image made byte for byte the same on every run (fixed names, sizes, modes, times), as a
// docker-archive: the input of the report and browser tests and of their screen goldens.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { writeTar, type TarWriteEntry } from '@strata/tar';

type Spec = [path: string, size?: number];

const LAYERS: Array<{ by: string; entries: Spec[] }> = [
  { by: 'ADD rootfs.tar /', entries: [['bin/'], ['bin/app', 120_000], ['etc/'], ['etc/conf', 300], ['etc/passwd', 500], ['usr/'], ['usr/share/'], ['usr/share/doc/'], ['usr/share/doc/readme', 2_000]] },
  { by: 'RUN apt-get install tool', entries: [['etc/'], ['etc/conf', 900], ['var/'], ['var/cache/'], ['var/cache/apt/'], ['var/cache/apt/pkg.deb', 50_000], ['opt/'], ['opt/tool', 30_000]] },
  { by: 'RUN rm -rf /var/cache/apt', entries: [['var/'], ['var/cache/'], ['var/cache/.wh.apt', 0]] },
  { by: 'RUN mv /opt/tool /usr/local/bin/tool', entries: [['opt/'], ['opt/.wh.tool', 0], ['usr/'], ['usr/local/'], ['usr/local/bin/'], ['usr/local/bin/tool', 30_000]] },
];

function fill(size: number, seed: string): Buffer {
  const b = Buffer.alloc(size);
  const h = createHash('sha256').update(seed).digest();
  for (let i = 0; i < size; i++) b[i] = h[i % h.length];
  return b;
}

const entry = ([path, size]: Spec): TarWriteEntry =>
  path.endsWith('/')
    ? { path: path.slice(0, -1), type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1_704_067_200 }
    : { path, type: 'file', mode: 0o644, uid: 0, gid: 0, size: size!, mtime: 1_704_067_200, data: fill(size!, path) };

async function bytesOf(entries: TarWriteEntry[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of writeTar(entries)) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

/** Write the fixture image as a docker-archive at `file`; returns its tag. */
export async function writeFixtureArchive(file: string): Promise<string> {
  const tars = await Promise.all(LAYERS.map((l) => bytesOf(l.entries.map(entry))));
  const diffIds = tars.map((t) => `sha256:${createHash('sha256').update(t).digest('hex')}`);
  const config = {
    architecture: 'amd64',
    os: 'linux',
    created: '2024-01-01T00:00:00Z',
    config: { Env: ['PATH=/usr/local/bin:/usr/bin:/bin'], Cmd: ['/bin/app'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: LAYERS.map((l) => ({ created: '2024-01-01T00:00:00Z', created_by: l.by })),
  };
  const rawConfig = Buffer.from(JSON.stringify(config));
  const configName = `${createHash('sha256').update(rawConfig).digest('hex')}.json`;
  const tag = 'fixture/browse:1';
  const manifest = Buffer.from(JSON.stringify([{ Config: configName, RepoTags: [tag], Layers: tars.map((_, i) => `layer${i}/layer.tar`) }]));
  const file0 = (path: string, data: Buffer): TarWriteEntry => ({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: 1_704_067_200, data });
  const archive: TarWriteEntry[] = [file0('manifest.json', manifest), file0(configName, rawConfig)];
  tars.forEach((t, i) => {
    archive.push({ path: `layer${i}`, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1_704_067_200 });
    archive.push(file0(`layer${i}/layer.tar`, t));
  });
  await pipeline(Readable.from(writeTar(archive)), createWriteStream(file));
  return tag;
}
