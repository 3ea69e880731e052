import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER } from './peers';
import { ensureDockerBusybox } from './busybox';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Make sure Docker has `tag`: the busybox base with the given uncompressed layer tars on top,
 * added as they are. For layers no Dockerfile can make (an entry below a path a lower layer made
 * a symlink, say): the image is written as a docker-archive and `docker load`ed, so Docker and
 * strata (through `docker save | strata image load`) start from the same bytes.
 */
export function ensureDockerDerivedImage(tag: string, layerTars: string[]): string {
  const base = ensureDockerBusybox();
  const layers = layerTars.map((p) => ({ path: p, diffId: `sha256:${sha256(readFileSync(p))}` }));
  // The tag names the content: a stale image from other layers is replaced.
  const label = sha256(Buffer.from(layers.map((l) => l.diffId).join(',')));
  try {
    const current = execFileSync(DOCKER, ['image', 'inspect', '-f', '{{index .Config.Labels "strata.test.layers"}}', tag], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (current === label) return tag;
  } catch {
    // not there yet
  }
  const dir = mkdtempSync(join(tmpdir(), 'strata-derived-'));
  try {
    const saved = join(dir, 'saved');
    mkdirSync(saved);
    execFileSync('sh', ['-c', `${DOCKER} save ${base} | tar -x -C ${saved}`]);
    const manifest = JSON.parse(readFileSync(join(saved, 'manifest.json'), 'utf8'))[0];
    const config = JSON.parse(readFileSync(join(saved, manifest.Config), 'utf8'));
    const out = join(dir, 'out');
    mkdirSync(out);
    const layerPaths: string[] = [];
    for (const [i, rel] of (manifest.Layers as string[]).entries()) {
      const name = `base-${i}.tar`;
      copyFileSync(join(saved, rel), join(out, name));
      layerPaths.push(name);
    }
    const created = '2024-01-01T00:00:00Z';
    for (const [i, l] of layers.entries()) {
      const name = `layer-${i}.tar`;
      copyFileSync(l.path, join(out, name));
      layerPaths.push(name);
      config.rootfs.diff_ids.push(l.diffId);
      config.history = [...(config.history ?? []), { created, created_by: `crafted layer ${i + 1}` }];
    }
    config.config = { ...config.config, Labels: { ...(config.config?.Labels ?? {}), 'strata.test.layers': label } };
    config.created = created;
    const configBytes = Buffer.from(JSON.stringify(config));
    const configName = `${sha256(configBytes)}.json`;
    writeFileSync(join(out, configName), configBytes);
    writeFileSync(join(out, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: [tag], Layers: layerPaths }]));
    execFileSync('sh', ['-c', `tar -C ${out} -c . | ${DOCKER} load -q`], { stdio: ['ignore', 'ignore', 'inherit'] });
    return tag;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
