import { createHash, hash as hashOnce, type Hash } from 'node:crypto';
import { StrataError } from '@strata/errors';

export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

export function parseDigest(s: string): Digest {
  if (!isDigest(s)) throw new StrataError('INVALID_DIGEST', `invalid digest "${s}" (want sha256:<64 hex>)`);
  return s;
}

/** The 64 hex characters of a digest. */
export function digestHex(d: string): string {
  return parseDigest(d).slice('sha256:'.length);
}

export function sha256(data: Uint8Array | string): Digest {
  // one-shot: several times cheaper than a Hash object for the small inputs most calls have
  return `sha256:${hashOnce('sha256', data, 'hex')}`;
}

/** Incremental sha256 that also counts bytes. */
export class Hasher {
  private readonly h: Hash = createHash('sha256');
  size = 0;
  update(chunk: Uint8Array): void {
    this.h.update(chunk);
    this.size += chunk.length;
  }
  digest(): Digest {
    return `sha256:${this.h.digest('hex')}`;
  }
}

/** Hash a byte stream, returning digest and size. */
export async function digestStream(src: AsyncIterable<Uint8Array>): Promise<{ digest: Digest; size: number }> {
  const h = new Hasher();
  for await (const chunk of src) h.update(chunk);
  return { digest: h.digest(), size: h.size };
}

/** Pass chunks through while hashing them; `result()` is valid once the iteration finished. */
export function hashing(src: AsyncIterable<Uint8Array>): { stream: AsyncIterable<Uint8Array>; result: () => { digest: Digest; size: number } } {
  const h = new Hasher();
  let done: { digest: Digest; size: number } | undefined;
  return {
    stream: (async function* () {
      for await (const chunk of src) {
        h.update(chunk);
        yield chunk;
      }
      done = { digest: h.digest(), size: h.size };
    })(),
    result: () => {
      if (!done) throw new Error('hashing: stream not fully consumed');
      return done;
    },
  };
}

/** OCI ChainID: ChainID(L0) = DiffID(L0); ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln)). */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIds) out.push(out.length === 0 ? d : sha256(`${out[out.length - 1]} ${d}`));
  return out;
}

export function shortId(d: string, n = 12): string {
  return d.replace(/^sha256:/, '').slice(0, n);
}
