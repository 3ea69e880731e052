import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { cleanupTempDirs, tempDir } from '@strata/testing';
import { applyLayer, opaquePath, whiteoutPath, type TarWriteEntry } from '@strata/tar';
import { changeEntries } from '@strata/layer';
import { diffViews, directoryView, flatten, unionView } from '../src';
import { collect, rowsOfDir, rowsOfTar, tarBytes } from './helpers';

afterAll(cleanupTempDirs);

const T = 1_700_000_000;
const seg = fc.constantFrom('a', 'b', 'c');
const path = fc.array(seg, { minLength: 1, maxLength: 3 }).map((p) => p.join('/'));
const op = fc.oneof(
  fc.record({ op: fc.constant('file' as const), path, content: fc.constantFrom('', 'x', 'hello', 'y'.repeat(600)), mode: fc.constantFrom(0o644, 0o755, 0o4755, 0o600), uid: fc.constantFrom(0, 1000) }),
  fc.record({ op: fc.constant('dir' as const), path, mode: fc.constantFrom(0o755, 0o700, 0o1777), uid: fc.constantFrom(0, 1000) }),
  fc.record({ op: fc.constant('symlink' as const), path, target: fc.constantFrom('a', '../b', '/etc/passwd', 'c/a') }),
  fc.record({ op: fc.constant('hardlink' as const), path, target: path }),
  fc.record({ op: fc.constant('whiteout' as const), path }),
  fc.record({ op: fc.constant('opaque' as const), path }),
);
type Op = typeof op extends fc.Arbitrary<infer X> ? X : never;
const layers = fc.array(fc.array(op, { maxLength: 8 }), { minLength: 1, maxLength: 4 });

function toEntries(ops: Op[]): TarWriteEntry[] {
  return ops.map((o): TarWriteEntry => {
    const base = { mode: 0o644, uid: 0, gid: 0, size: 0, mtime: T };
    switch (o.op) {
      case 'file':
        return { ...base, path: o.path, type: 'file', mode: o.mode, uid: o.uid, size: o.content.length, data: o.content };
      case 'dir':
        return { ...base, path: o.path, type: 'dir', mode: o.mode, uid: o.uid };
      case 'symlink':
        return { ...base, path: o.path, type: 'symlink', mode: 0o777, linkname: o.target };
      case 'hardlink':
        return { ...base, path: o.path, type: 'hardlink', linkname: o.target };
      case 'whiteout':
        return { ...base, path: whiteoutPath(o.path), type: 'file', data: '' };
      case 'opaque':
        return { ...base, path: opaquePath(o.path), type: 'file', data: '' };
    }
  });
}

async function outcome<T>(f: () => Promise<T>): Promise<{ ok: T } | { code: string }> {
  try {
    return { ok: await f() };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (!code || code === 'IO_ERROR') throw err;
    return { code };
  }
}

describe('unionfs flatten = extracting the layers one after another', () => {
  it('holds for random layer stacks (files, dirs, links, whiteouts, opaque dirs)', async () => {
    await fc.assert(
      fc.asyncProperty(layers, async (stack) => {
        const work = tempDir();
        const tars = await Promise.all(stack.map((ops) => tarBytes(toEntries(ops))));
        const paths = tars.map((t, i) => {
          const p = join(work, `l${i}.tar`);
          writeFileSync(p, t);
          return p;
        });
        const root = join(work, 'root');
        mkdirSync(root);
        const extracted = await outcome(async () => {
          for (const t of tars) await applyLayer(root, Readable.from([t]));
          return rowsOfDir(root);
        });
        const viewed = await outcome(async () => {
          const view = await unionView(paths.map((p) => ({ path: p })));
          return rowsOfTar(await collect(flatten(view)));
        });
        if ('code' in extracted || 'code' in viewed) {
          expect('code' in viewed ? viewed.code : 'ok').toBe('code' in extracted ? extracted.code : 'ok');
        } else {
          expect(viewed.ok).toEqual(extracted.ok);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('layer create: diff of two trees, applied to the first, gives the second', () => {
  it('holds for random trees', async () => {
    const tree = fc.array(op.filter((o) => o.op === 'file' || o.op === 'dir' || o.op === 'symlink' || o.op === 'hardlink'), { maxLength: 10 });
    await fc.assert(
      fc.asyncProperty(tree, tree, async (opsA, opsB) => {
        const work = tempDir();
        const make = async (name: string, ops: Op[]) => {
          const d = join(work, name);
          mkdirSync(d);
          const r = await outcome(async () => applyLayer(d, Readable.from([await tarBytes(toEntries(ops))])));
          return 'ok' in r ? d : undefined;
        };
        const a = await make('a', opsA);
        const a2 = await make('a2', opsA);
        const b = await make('b', opsB);
        // not a valid tree (refused with a StrataError): skipped, and fast-check fails when it skips too many
        fc.pre(a !== undefined && a2 !== undefined && b !== undefined);
        const changes = [];
        for await (const c of diffViews(directoryView(a), directoryView(b), { ignore: ['mtime'] })) changes.push(c);
        const layer = await tarBytes(changeEntries(b, changes));
        await applyLayer(a2, Readable.from([layer]));
        expect(rowsOfDir(a2)).toEqual(rowsOfDir(b));
      }),
      {
        numRuns: 100,
        // a file linked from an added directory and from outside it (once found by a CI seed)
        examples: [[[], [{ op: 'file', path: 'b/b', content: '', mode: 0o644, uid: 0 }, { op: 'hardlink', path: 'a', target: 'b/b' }]]],
      },
    );
  });
});
