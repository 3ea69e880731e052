import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { atomicWrite, type BlobStore } from '@strata/cas';
import { isDigest, type Digest } from '@strata/oci';
import { RACY_WINDOW_MS } from '@strata/context';

/** What a cached step produced: its layer (if any) and the history facts that must not change on a hit. */
export interface CacheRecord {
  /** The step key (`stepKey`). */
  key: string;
  /** When the step first ran (the history `created` of its layer: same inputs → same image ID). */
  created: string;
  /**
   * The layer, stored uncompressed in the blob store (digest = diffID); `contentSize`: its
   * regular files' bytes (Docker's size of it), counted when it was written.
   */
  layer?: { digest: Digest; size: number; mediaType: string; contentSize?: number };
  /** For listings: the instruction as shown in progress output. */
  description?: string;
  /** When the record was last used (for `build prune --keep-duration`-style policies and listings). */
  lastUsed?: string;
}

export interface CacheUsage {
  records: number;
  /** Bytes of the layers the records keep (each blob counted once). */
  bytes: number;
  /** Those of them that no image in `keep` uses (reclaimable by `build prune`). */
  entries: Array<{ key: string; description?: string; created: string; lastUsed?: string; size: number; digest?: Digest }>;
}

export interface PruneResult {
  removed: number;
  /** Bytes of layers no longer kept by any cache record (GC frees those not used by images). */
  bytes: number;
}

export interface LayerCache {
  readonly dir: string;
  /** The record for `key` when its layer blob is still in the store (a stale record is dropped). */
  get(key: string): Promise<CacheRecord | undefined>;
  /** Store a record and register its layer as a GC root of the store. */
  put(record: CacheRecord): Promise<void>;
  list(): Promise<CacheRecord[]>;
  usage(): Promise<CacheUsage>;
  /**
   * A shortcut from a cheap fingerprint (stat data of the sources) to a step key computed from
   * contents before. Trusted only when every source's mtime is safely older than when the alias
   * was written (racy-clean rule): then the sources need not be read or hashed again.
   */
  getAlias(fingerprint: string, newestMtimeMs: number): Promise<string | undefined>;
  putAlias(fingerprint: string, key: string): Promise<void>;
  /** Remove records (all, or those last used before `olderThan`) and their GC roots. */
  prune(opts?: { olderThan?: Date }): Promise<PruneResult>;
}

const KEY = /^[0-9a-f]{64}$/;

/**
 * Remove the aliases in `dir` made before `olderThan` (by the `at` each records: the clock that
 * `olderThan` and the records' lastUsed come from), and any that cannot be read.
 */
async function removeOlderAliases(dir: string, olderThan: Date): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const p = join(dir, n);
    const at = await fsp.readFile(p, 'utf8').then((t) => Number((JSON.parse(t) as { at?: unknown }).at), () => NaN);
    if (!(at >= olderThan.getTime())) await fsp.rm(p, { force: true });
  }
}


/**
 * The build cache of a store: `ROOT/cache/records/<key>.json` plus one GC root file per record in
 * `ROOT/cache/roots/<key>.json` (the image-store's GC keeps what those list). Records and roots are
 * written atomically; a record whose blob vanished is treated as a miss and removed.
 */
export function openLayerCache(blobs: BlobStore): LayerCache {
  const root = blobs.root;
  const dir = join(root, 'cache');
  const recordsDir = join(dir, 'records');
  const rootsDir = join(dir, 'roots');
  const tmpDir = join(root, 'tmp');
  const recordPath = (key: string) => join(recordsDir, `${key}.json`);
  const aliasDir = join(dir, 'aliases');
  const aliasPath = (fp: string) => join(aliasDir, `${fp}.json`);
  const rootPath = (key: string) => join(rootsDir, `${key}.json`);

  async function readRecord(key: string): Promise<CacheRecord | undefined> {
    try {
      const rec = JSON.parse(await fsp.readFile(recordPath(key), 'utf8')) as CacheRecord;
      if (rec.key !== key || typeof rec.created !== 'string') return undefined;
      if (rec.layer && !isDigest(rec.layer.digest)) return undefined;
      // a count is only a hint (the store reads the layer's headers without it): a bad one is dropped
      if (rec.layer?.contentSize !== undefined && !(Number.isSafeInteger(rec.layer.contentSize) && rec.layer.contentSize >= 0)) delete rec.layer.contentSize;
      return rec;
    } catch {
      return undefined;
    }
  }

  async function remove(key: string): Promise<void> {
    await fsp.rm(rootPath(key), { force: true });
    await fsp.rm(recordPath(key), { force: true });
  }

  async function write(rec: CacheRecord): Promise<void> {
    await fsp.mkdir(recordsDir, { recursive: true });
    await fsp.mkdir(rootsDir, { recursive: true });
    await fsp.mkdir(tmpDir, { recursive: true });
    // Root first: a record must never name a blob GC may take.
    if (rec.layer) await atomicWrite(rootPath(rec.key), JSON.stringify([rec.layer.digest]), { tmpDir });
    await atomicWrite(recordPath(rec.key), JSON.stringify(rec), { tmpDir });
  }

  async function keys(): Promise<string[]> {
    try {
      return (await fsp.readdir(recordsDir)).filter((n) => n.endsWith('.json') && KEY.test(n.slice(0, -5))).map((n) => n.slice(0, -5));
    } catch {
      return [];
    }
  }

  async function list(): Promise<CacheRecord[]> {
    const out: CacheRecord[] = [];
    for (const k of await keys()) {
      const r = await readRecord(k);
      if (r) out.push(r);
    }
    return out.sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : 0));
  }

  return {
    dir,
    async get(key) {
      if (!KEY.test(key)) return undefined;
      const rec = await readRecord(key);
      if (!rec) return undefined;
      if (rec.layer && !(await blobs.has(rec.layer.digest))) {
        await remove(key);
        return undefined;
      }
      // Touch lastUsed at most once a minute: a hit should not cost a write each time.
      const now = new Date();
      if (!rec.lastUsed || now.getTime() - Date.parse(rec.lastUsed) > 60_000) {
        rec.lastUsed = now.toISOString();
        await write(rec).catch(() => undefined);
      }
      return rec;
    },
    async put(record) {
      if (!KEY.test(record.key)) throw new Error(`layer-cache: bad key ${record.key}`);
      await write({ ...record, lastUsed: record.lastUsed ?? new Date().toISOString() });
    },
    list,
    async getAlias(fp, newestMtimeMs) {
      if (!KEY.test(fp)) return undefined;
      try {
        const fh = await fsp.open(aliasPath(fp));
        try {
          // Written once, when made: its mtime is when, on the clock that stamped the sources too.
          const st = await fh.stat();
          const a = JSON.parse(await fh.readFile('utf8')) as { key: string };
          if (!KEY.test(a.key) || !(newestMtimeMs < st.mtimeMs - RACY_WINDOW_MS)) return undefined;
          return a.key;
        } finally {
          await fh.close();
        }
      } catch {
        return undefined;
      }
    },
    async putAlias(fp, key) {
      if (!KEY.test(fp) || !KEY.test(key)) return;
      await fsp.mkdir(aliasDir, { recursive: true });
      await fsp.mkdir(tmpDir, { recursive: true });
      await atomicWrite(aliasPath(fp), JSON.stringify({ key, at: Date.now() }), { tmpDir });
    },
    async usage() {
      const recs = await list();
      const seen = new Set<string>();
      let bytes = 0;
      const entries = recs.map((r) => {
        const size = r.layer?.size ?? 0;
        if (r.layer && !seen.has(r.layer.digest)) {
          seen.add(r.layer.digest);
          bytes += size;
        }
        return { key: r.key, description: r.description, created: r.created, lastUsed: r.lastUsed, size, digest: r.layer?.digest };
      });
      return { records: recs.length, bytes, entries };
    },
    async prune(opts = {}) {
      const recs = await list();
      let removed = 0;
      const freed = new Map<string, number>();
      const kept = new Set<string>();
      for (const r of recs) {
        const last = Date.parse(r.lastUsed ?? r.created);
        if (opts.olderThan && last >= opts.olderThan.getTime()) {
          if (r.layer) kept.add(r.layer.digest);
          continue;
        }
        await remove(r.key);
        removed++;
        if (r.layer) freed.set(r.layer.digest, r.layer.size);
      }
      let bytes = 0;
      for (const [d, s] of freed) if (!kept.has(d)) bytes += s;
      if (!opts.olderThan) await fsp.rm(aliasDir, { recursive: true, force: true });
      else await removeOlderAliases(aliasDir, opts.olderThan);
      return { removed, bytes };
    },
  };
}
