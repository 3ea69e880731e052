// What the pictures show, computed once: each layer's entries, the merged filesystem (unionfs
// decides what is visible and which layer wrote it), and dive's figures (inspect). Only metadata
// is kept — file bytes are never read.
import { diveAnalysis, layerEntries, type DiveAnalysis, type EfficiencyOptions } from '@strata/inspect';
import type { TarEntry } from '@strata/tar';
import { unionView, type LayerSource } from '@strata/unionfs';

export interface ReportLayerInput {
  diffId: string;
  source: LayerSource;
}

export interface ReportInput {
  /** What the user named. */
  name: string;
  /** Image ID (config digest). */
  id: string;
  config: Record<string, unknown>;
  layers: ReportLayerInput[];
}

/** One version of a regular file in one layer. */
export interface FileVersion {
  path: string;
  layer: number;
  size: number;
  /** Whether this version is the one the merged filesystem shows. */
  visible: boolean;
}

export interface ModelLayer {
  index: number;
  diffId: string;
  command: string;
  sizeBytes: number;
  /** The layer's entries (metadata only). */
  entries: TarEntry[];
}

export interface ImageModel {
  name: string;
  id: string;
  config: Record<string, unknown>;
  layers: ModelLayer[];
  analysis: DiveAnalysis;
  /** Every regular file with bytes, in every layer that wrote it. */
  files: FileVersion[];
  /** Paths dive counts as inefficient (absolute, as in the analysis). */
  wasted: Set<string>;
}

export async function imageModel(input: ReportInput, opts: EfficiencyOptions = {}): Promise<ImageModel> {
  const entries: TarEntry[][] = [];
  for (const l of input.layers) entries.push(await layerEntries({ ...l.source, diffId: l.source.diffId ?? (l.diffId as LayerSource['diffId']) }));
  const analysis = await diveAnalysis(
    { name: input.name, config: input.config, layers: input.layers.map((l, i) => ({ diffId: l.diffId, entries: async () => entries[i] })) },
    opts,
  );
  const view = await unionView(input.layers.map((l) => l.source));
  const files: FileVersion[] = [];
  entries.forEach((list, layer) => {
    for (const e of list) {
      if (e.type !== 'file' || e.size === 0 || e.path.split('/').some((p) => p.startsWith('.wh.'))) continue;
      files.push({ path: e.path, layer, size: e.size, visible: view.stat(e.path)?.layer === layer });
    }
  });
  return {
    name: input.name,
    id: input.id,
    config: input.config,
    layers: analysis.diveLayers.map((l, i) => ({ index: i, diffId: l.digestId, command: l.command, sizeBytes: l.sizeBytes, entries: entries[i] })),
    analysis,
    files,
    wasted: new Set(analysis.inefficiencies.filter((p) => p.sizeBytes > 0).map((p) => p.file)),
  };
}
