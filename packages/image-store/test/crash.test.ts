import { spawn } from 'node:child_process';
import { promises as fsp, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleScript, cleanupTempDirs, tempDir } from '@strata/testing';
import { checkStore, collectGarbage, openStore, readIndex } from '../src/index';
import { makeImage } from './helpers';

afterAll(cleanupTempDirs);

const SRC = fileURLToPath(new URL('../src/index.ts', import.meta.url));

/**
 * A writer killed with SIGKILL in the middle of everything — holding the lock, half-way through a
 * big blob, with blobs written but not yet in index.json — leaves a store that is consistent
 * (`checkStore` clean), usable at once (the dead lock is broken), and clean after GC.
 */
describe('kill -9 of a writer', () => {
  it('leaves garbage only in tmp/, and a lock the next process breaks', async () => {
    const root = tempDir();
    const store = await openStore(root);
    const before = await store.putImage(await makeImage('kept', { layers: 2 }), { tags: ['kept:1'] });

    const dir = tempDir();
    const entry = join(dir, 'writer.ts');
    writeFileSync(
      entry,
      `import { openStore } from ${JSON.stringify(SRC)};
const store = await openStore(process.argv[2]);
// 1. blobs written, not yet referenced (leased)
await store.blobs.putBytes('orphan written before the crash');
// 2. a big blob in flight, slowly
const slow = (async function* () { for (let i = 0; ; i++) { yield Buffer.alloc(64 * 1024, i & 255); await new Promise((r) => setTimeout(r, 5)); } })();
store.blobs.put(slow).catch(() => {});
// 3. the lock, held forever
store.withLock(() => { process.stdout.write('locked\\n'); return new Promise(() => {}); });
`,
    );
    const script = await bundleScript(entry);
    const child = spawn(process.execPath, [script, root], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => b.toString().includes('locked') && resolve());
      child.once('exit', (code) => reject(new Error(`writer exited early (${code})`)));
    });
    await new Promise((r) => setTimeout(r, 300)); // let the big blob grow
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const tmp = await fsp.readdir(join(root, 'tmp'));
    expect(tmp.some((n) => n.startsWith(`blob-${child.pid}-`))).toBe(true);
    expect(tmp.some((n) => n.startsWith(`lease-${child.pid}-`))).toBe(true);
    expect((await fsp.lstat(join(root, 'lock'))).isSymbolicLink()).toBe(true); // the dead writer's lock

    // usable at once: the dead holder's lock is broken
    await store.tag('kept:1', 'kept:2');
    expect((await checkStore(store)).problems).toEqual([]);
    expect((await readIndex(root)).manifests).toHaveLength(2);

    const gc = await collectGarbage(store, { tmp: true });
    expect(gc.blobs).toHaveLength(1); // the orphan: its lease died with the writer
    expect(gc.tmpFiles).toBeGreaterThanOrEqual(2);
    expect((await fsp.readdir(join(root, 'tmp'))).filter((n) => n.includes(`-${child.pid}-`))).toEqual([]);
    expect((await checkStore(store)).problems).toEqual([]);
    expect((await store.image('kept:2')).id).toBe(before.id);
  }, 60_000);
});
