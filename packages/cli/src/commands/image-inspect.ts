// `strata image inspect REF… [--format TEMPLATE]`: Docker's JSON array, or a Go template per image.
import { existsSync } from 'node:fs';
import { isStrataError } from '@strata/errors';
import type { Image } from '@strata/image';
import { openStore, type Store } from '@strata/image-store';
import {
  compileTemplate,
  dockerInspect,
  goJson,
  inspectTemplateValue,
  layerUsage,
  renderInspect,
  scanTarFile,
  scanTarStream,
  type DockerImageInspect,
  type LayerUsage,
  type TarHeader,
} from '@strata/inspect';
import type { Layer } from '@strata/layer';
import { familiarReference, parseReference } from '@strata/oci';
import type { CommandContext, CommandResult } from '../runner';

/**
 * Docker-counted usage of each layer. The store keeps layers uncompressed (blob digest = diffID),
 * so the tar headers are read in place, seeking over file data.
 */
export async function layerUsages(store: Store, image: Image): Promise<LayerUsage[]> {
  const out: LayerUsage[] = [];
  for (const layer of await image.layers()) {
    const diffId = await layer.diffId();
    let usage = usageCache.get(diffId);
    if (!usage) {
      usage = layerUsage(await headersOf(store, layer));
      usageCache.set(diffId, usage);
    }
    out.push(usage);
  }
  return out;
}

/** Tar headers of a stored layer: read in place when the blob is the uncompressed tar. */
export async function headersOf(store: Store, layer: Layer): Promise<TarHeader[]> {
  const [digest, diffId] = await Promise.all([layer.digest(), layer.diffId()]);
  const path = digest === diffId ? store.blobs.path(digest) : undefined;
  // Store blobs were digest-verified when written: skip the per-header checksums (cold-start cost).
  return path && existsSync(path) ? scanTarFile(path, { verify: false }) : scanTarStream(await layer.uncompressed());
}

/** Images share base layers: count each diffID once per process. */
const usageCache = new Map<string, LayerUsage>();

export async function layerSizes(store: Store, image: Image): Promise<number[]> {
  return (await layerUsages(store, image)).map((u) => u.size);
}

export interface ImageInspectOptions {
  /** A Go template, `json`, or undefined for the JSON array. */
  format?: string;
}

/** The inspect object of one stored image. */
export async function inspectStoredImage(store: Store, ref: string): Promise<DockerImageInspect> {
  const img = await store.image(ref);
  const config = JSON.parse(Buffer.from(await img.image.rawConfig()).toString('utf8')) as Record<string, unknown>;
  const sizes = await layerSizes(store, img.image);
  const tags = [...img.tags].sort().map((t) => familiarReference(parseReference(t)));
  return dockerInspect({
    id: img.id,
    config,
    repoTags: tags,
    repoDigests: [],
    size: sizes.reduce((a, b) => a + b, 0),
    lastTagTime: img.lastTagTime,
  });
}

export async function runImageInspect(ctx: CommandContext, refs: string[], opts: ImageInspectOptions): Promise<CommandResult> {
  // Parse the template before touching the store: a bad template is a usage error.
  const template = opts.format && opts.format !== 'json' ? compileTemplate(opts.format) : undefined;
  const store = await openStore(ctx.globals.root);
  const found: DockerImageInspect[] = [];
  const missing: string[] = [];
  for (const ref of refs) {
    try {
      found.push(await inspectStoredImage(store, ref));
    } catch (err) {
      if (!isStrataError(err, 'IMAGE_NOT_FOUND') && !isStrataError(err, 'INVALID_REFERENCE')) throw err;
      missing.push(ref);
    }
  }
  let text: string;
  if (template) {
    text = renderInspect(template, found.map((v) => ({ typed: inspectTemplateValue(v), raw: v })));
  } else {
    // Docker indents the API's JSON (Go-escaped) with four spaces; an empty result is "[]".
    text = found.length ? `${goJson(found, 4)}\n` : '[]\n';
  }
  if (missing.length) {
    // Like docker: print what was found, then one error line per missing image.
    await write(ctx, text);
    for (const m of missing) ctx.io.stderr.write(`strata: No such image: ${m}\n`);
    return { kind: 'none', exitCode: 2 };
  }
  return { kind: 'text', text };
}

function write(ctx: CommandContext, s: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!s) return resolve();
    ctx.io.stdout.write(s, (err) => (err ? reject(err) : resolve()));
  });
}
