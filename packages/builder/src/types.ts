import type { Digest } from '@strata/oci';
import type { Store } from '@strata/image-store';
import type { LayerCache } from '@strata/layer-cache';
import type { RegistryOptions } from '@strata/registry';

/** One line of progress: a step started, was cached, finished or failed; or output of a RUN. */
export type ProgressEvent =
  | { type: 'step'; id: number; name: string; status: 'start' | 'cached' | 'done' | 'error'; elapsedMs?: number; error?: string }
  | { type: 'log'; id: number; stream: 'stdout' | 'stderr'; data: string }
  | { type: 'warning'; message: string; line?: number };

export interface SecretSource {
  /** A file on the host. */
  src?: string;
  /** An environment variable of the build process. */
  env?: string;
}

export interface BuildOptions {
  store: Store;
  /** The build context directory. */
  contextDir: string;
  /** Dockerfile text (`-f -`) … */
  dockerfileText?: string;
  /** … or its path (default `<context>/Dockerfile`). */
  dockerfilePath?: string;
  /** Tags for the result (`-t`, several). */
  tags?: string[];
  buildArgs?: Record<string, string>;
  /** Stage to build (`--target`), by name. Default: the last stage. */
  target?: string;
  /** Run every step (cache records are still written). */
  noCache?: boolean;
  /** `--label`: set on the final image. */
  labels?: Record<string, string>;
  /** `--platform`: recorded (this machine builds linux/amd64 only). */
  platform?: string;
  /** `SOURCE_DATE_EPOCH`: clamps file times in new layers, history and config `created`. */
  sourceDateEpoch?: number;
  /** `--secret id=…,src=…|env=…`. */
  secrets?: Record<string, SecretSource>;
  /** Environment of the client (proxy ARGs, secret env sources). */
  env?: Record<string, string | undefined>;
  progress?: (event: ProgressEvent) => void;
  /** Registry settings (TLS, proxies, the environment credentials come from): a FROM image the store lacks is pulled. */
  registry?: RegistryOptions;
  /** `--pull`: ask the registry for every FROM image, even one the store has. */
  pull?: boolean;
  /** `--cache-from type=registry,ref=R`: refs of build caches to use. */
  cacheFrom?: string[];
  /** `--cache-to type=registry,ref=R`: where to push the records the build used. */
  cacheTo?: string;
  /** The layer cache (default: the store's own). */
  layerCache?: LayerCache;
  /**
   * A RUN step's upper dir becomes the snapshot of its layer (default true), so the next step
   * unpacks nothing. False: the snapshot is unpacked from the stored layer when needed (the
   * tests compare the two ways).
   */
  snapshotsFromUpper?: boolean;
}

export interface StepReport {
  id: number;
  name: string;
  cached: boolean;
  elapsedMs: number;
  /** A COPY/ADD that wrote its layer: file entries copied from the layer of the step's previous build, and read from their source. */
  files?: { spliced: number; read: number };
}

export interface BuildResult {
  /** Image ID (config digest). */
  id: Digest;
  manifestDigest: Digest;
  tags: string[];
  steps: StepReport[];
  /** Context files read to hash them (0 when the cache answered from stat data alone). */
  contextFilesRead: number;
}
