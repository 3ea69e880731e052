// A build step's writable layer whose owner is SIGKILLed mid-RUN is cleaned by the next
// recoverWritableLayers() that can end the runtime (as @strata/container's recovery does):
// runtime state deleted, processes gone, no mount, record removed. Without a way to end the
// runtime, cow leaves the layer alone (its process may still be writing to it).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleScript, busyboxRootfsTar, cleanupTempDirs, peerAvailable, processesMentioning, tempDir } from '@strata/testing';
import { deleteRuntimeState } from '@strata/runtime';
import { listWritableLayers, recoverWritableLayers } from '../src/index';

afterAll(() => cleanupTempDirs());

describe.skipIf(!peerAvailable('runc'))('crash recovery of a RUN step', () => {
  it('SIGKILL of the owner mid-run leaves nothing behind after recoverContainers', async () => {
    const work = tempDir();
    const root = join(work, 'store');
    const entry = join(work, 'step.ts');
    writeFileSync(entry, `
      import { layerFromTarFile } from '@strata/layer';
      import { runOnLayers } from '@strata/cow';
      import { runProcess } from '@strata/runtime';
      await runOnLayers({ root: ${JSON.stringify(root)}, layers: [layerFromTarFile(${JSON.stringify(busyboxRootfsTar())})],
        exec: (c) => runProcess({ ...c, args: ['sleep', '60'], stdout: 'ignore', stderr: 'ignore' }) });
    `);
    const out = await bundleScript(entry);
    const child = spawn(process.execPath, [out], { stdio: 'ignore' });
    let id: string | undefined;
    for (let i = 0; i < 200 && !id; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const rec = listWritableLayers(root)[0];
      if (rec && existsSync(join(root, 'writable', rec.id, 'runtime', rec.id, 'state.json'))) id = rec.id;
    }
    expect(id).toBeDefined();
    await new Promise((r) => setTimeout(r, 200));
    expect(processesMentioning(id!).length).toBeGreaterThan(0);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(await recoverWritableLayers(root)).toEqual({ removed: [], tmpDirs: 0 });
    expect(listWritableLayers(root).map((l) => l.id)).toEqual([id]);
    const report = await recoverWritableLayers(root, { killRuntime: (stateDir, rid) => deleteRuntimeState({ stateDir, id: rid }) });
    expect(report.removed).toEqual([id]);
    expect(listWritableLayers(root)).toEqual([]);
    expect(existsSync(join(root, 'writable', id!))).toBe(false);
    expect(processesMentioning(id!)).toEqual([]);
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(root);
  });
});
