import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { hashTree, tempDir, writeTree } from '@strata/testing';
import { writeTar, type TarWriteEntry } from '../src';

/**
 * Hostile layer tars: each is an attack that a layer extractor must refuse (or neutralise)
 * without writing outside its target. `outside` is an absolute directory beside the target that
 * holds a file `victim`; attacks aim at it. Shared by the library and CLI tests.
 */
export interface HostileCase {
  name: string;
  /** Where this attack comes from. */
  origin: string;
  /** Layers applied in order (the last one is the attack); earlier ones plant things. */
  layers: (outside: string) => TarWriteEntry[][];
  /** The entry name the error must mention (undefined when the attack is neutralised, not refused). */
  entry?: string;
  /** The raw tar instead of entries (for header-level attacks). */
  raw?: (outside: string) => Buffer;
  /**
   * A neutralised attack: the path that must now be a real directory inside the target (a lower
   * layer's symlink that this layer's implied directory replaced, as overlayfs shows it).
   */
  replaced?: string;
}

const T = 1_700_000_000;
const file = (path: string, data = 'pwned\n', extra: Partial<TarWriteEntry> = {}): TarWriteEntry => ({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, size: Buffer.byteLength(data), mtime: T, data, ...extra });
const dir = (path: string): TarWriteEntry => ({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: T });
const sym = (path: string, linkname: string): TarWriteEntry => ({ path, type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtime: T, linkname });
const hard = (path: string, linkname: string): TarWriteEntry => ({ path, type: 'hardlink', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: T, linkname });

export const HOSTILE_CASES: HostileCase[] = [
  { name: 'dot-dot name', origin: 'tar slip: the "zip slip" family (e.g. CVE-2018-1002200)', layers: () => [[file('../victim')]], entry: '../victim' },
  { name: 'absolute name', origin: 'extractors honouring absolute names', layers: (o) => [[file(`${o}/victim`)]], entry: '/victim' },
  { name: 'several leading slashes', origin: 'node-tar CVE-2021-32804 (only one leading / stripped)', layers: (o) => [[file(`////${o.slice(1)}/victim`)]], entry: '////' },
  { name: 'nested dot-dot', origin: 'tar slip hidden behind a directory', layers: () => [[dir('a'), file('a/../../victim')]], entry: 'a/../../victim' },
  { name: 'symlink to absolute dir, then file through it', origin: 'write through a planted symlink (moby CVE-2014-9356, docker cp CVE-2018-15664 without the race)', layers: (o) => [[sym('l', o), file('l/victim')]], entry: 'l/victim' },
  { name: 'symlink to ../.., then file through it', origin: 'node-tar CVE-2021-32803 (a symlink then a write through it)', layers: () => [[sym('l', '../..'), file('l/victim')]], entry: 'l/victim' },
  { name: 'symlink planted by a lower layer', origin: 'breakout across layers: a lower layer plants the link (moby CVE-2014-9356)', layers: (o) => [[sym('l', o)], [file('l/victim')]], replaced: 'l' },
  { name: 'symlink chain', origin: 'symlink chains (node-tar CVE-2021-37701 family)', layers: (o) => [[sym('b', o), sym('a', 'b'), file('a/victim')]], entry: 'a/victim' },
  { name: 'directory through a symlink', origin: 'mkdir through a planted link', layers: (o) => [[sym('l', o), dir('l/newdir')]], entry: 'l/newdir/' },
  { name: 'hardlink to ../', origin: 'hardlink escape (moby CVE-2014-6407)', layers: () => [[hard('h', '../victim')]], entry: 'h' },
  { name: 'hardlink to absolute path', origin: 'hardlink to host files (moby CVE-2014-6407)', layers: (o) => [[hard('h', `${o}/victim`)]], entry: 'h' },
  { name: 'hardlink through a symlink', origin: 'link target resolved through a planted symlink', layers: (o) => [[sym('l', o), hard('h', 'l/victim')]], entry: 'h' },
  { name: 'whiteout escaping its directory', origin: 'whiteout path traversal', layers: () => [[file('../.wh.victim', '')]], entry: '../.wh.victim' },
  { name: 'whiteout through a symlink', origin: 'deleting host files through a planted link', layers: (o) => [[sym('l', o)], [file('l/.wh.victim', '')]] },
  { name: 'opaque whiteout through a symlink', origin: 'wiping a host directory through a planted link', layers: (o) => [[sym('l', o)], [file('l/.wh..wh..opq', '')]], replaced: 'l' },
  { name: 'whiteout of ..', origin: '.wh... names the parent', layers: () => [[dir('a'), file('a/.wh...', '')]], entry: 'a/.wh...' },
  { name: 'root replaced by a symlink', origin: 'umoci CVE-2021-29136 (root type change)', layers: (o) => [[sym('.', o), file('victim')]], entry: './' },
  { name: 'PAX path escape', origin: 'PAX path record overriding a benign ustar name', layers: () => [[file('x'.repeat(120) + '/../../../victim')]], entry: '../../victim' },
  { name: 'hardlink to the root directory', origin: 'link to a directory', layers: () => [[hard('h', '.')]], entry: 'h' },
  { name: 'file replacing a planted symlink', origin: 'write-through an existing link (must replace the link, not follow it)', layers: (o) => [[sym('victim-link', `${o}/victim`)], [file('victim-link')]] },
  { name: 'hardlink of a symlink, then file over it', origin: 'aliasing a link to the host', layers: (o) => [[sym('s', `${o}/victim`), hard('h', 's'), file('h')]] },
];

export async function tarBytes(entries: TarWriteEntry[]): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of writeTar(entries)) chunks.push(c);
  return Buffer.concat(chunks);
}

/**
 * A fresh sandbox for one case: an empty `target` to extract into and, beside it, `outside`
 * holding the files attacks aim at; `before` is the hash of `outside`, which must not change.
 */
export function hostileSandbox(): { sandbox: string; target: string; outside: string; before: string } {
  const sandbox = tempDir();
  const target = join(sandbox, 'target');
  const outside = join(sandbox, 'outside');
  mkdirSync(target);
  writeTree(outside, { victim: 'safe\n', 'sub/keep': 'k' });
  return { sandbox, target, outside, before: hashTree(outside) };
}
