import { imageFromParts, type Image } from '@strata/image';
import { layerFromUncompressed, readAll } from '@strata/layer';
import { writeTar } from '@strata/tar';

/** A small real image: `n` layers of one file each, content derived from `seed`. */
export async function makeImage(seed: string, opts: { layers?: number; created?: string; labels?: Record<string, string> } = {}): Promise<Image> {
  const layers = [];
  for (let i = 0; i < (opts.layers ?? 1); i++) {
    const data = `${seed} layer ${i}\n`;
    const tar = await readAll(writeTar([{ path: `f${i}.txt`, type: 'file', mode: 0o644, uid: 0, gid: 0, size: Buffer.byteLength(data), mtime: 0, data }]));
    layers.push(layerFromUncompressed({ open: async () => (async function* () { yield tar; })() }));
  }
  const diffIds = await Promise.all(layers.map((l) => l.diffId()));
  const config = {
    architecture: 'amd64',
    os: 'linux',
    created: opts.created ?? new Date().toISOString(),
    config: { Cmd: ['/bin/sh'], Labels: opts.labels ?? {} },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map(() => ({ created_by: `test ${seed}` })),
  };
  return imageFromParts({ rawConfig: Buffer.from(JSON.stringify(config)), layers });
}
