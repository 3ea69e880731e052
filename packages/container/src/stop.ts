import { ownerAlive } from '@strata/cow';
import { StrataError } from '@strata/errors';
import { findRuntime, runtimeKill } from '@strata/runtime';
import { recover } from './recover';
import { readContainer, runtimeDir, type ContainerRecord } from './records';

/** Send a signal to a running container's process (`KILL`, `TERM`, `HUP`, a number). */
export async function signalContainer(root: string, rec: ContainerRecord, signal: string): Promise<void> {
  if (rec.state !== 'running') throw new StrataError('CONFLICT', `Container ${rec.id} is not running`);
  const sig = signal.replace(/^SIG/i, '').toUpperCase();
  if (!/^[A-Z0-9+-]+$/.test(sig)) throw new StrataError('USAGE', `invalid signal ${signal}`);
  await runtimeKill(findRuntime(rec.config.runtime), runtimeDir(root, rec.id), rec.id, sig);
}

/** Wait until the container is no longer running (its owner records the exit); false on timeout. */
export async function waitStopped(root: string, id: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rec = readContainer(root, id);
    if (!rec || rec.state !== 'running') return true;
    if (!ownerAlive(rec.owner)) {
      await recover(root);
      return true;
    }
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Docker's `stop`: SIGTERM, then SIGKILL after `timeoutSec`; waits until the owner recorded the exit. */
export async function stopContainer(root: string, rec: ContainerRecord, timeoutSec: number): Promise<void> {
  if (rec.state !== 'running') return;
  await signalContainer(root, rec, 'TERM').catch(() => {});
  if (await waitStopped(root, rec.id, timeoutSec * 1000)) return;
  await signalContainer(root, rec, 'KILL').catch(() => {});
  await waitStopped(root, rec.id, 10_000);
}

/** Docker's `kill`; after KILL it waits for the exit to be recorded. */
export async function killContainer(root: string, rec: ContainerRecord, signal = 'KILL'): Promise<void> {
  await signalContainer(root, rec, signal);
  if (/^(SIG)?KILL$|^9$/i.test(signal)) await waitStopped(root, rec.id, 10_000);
}

/** Docker's `wait`: block until the container stops; its exit code. */
export async function waitContainer(root: string, id: string): Promise<number> {
  for (;;) {
    const rec = readContainer(root, id);
    if (!rec) return 0;
    if (rec.state !== 'running') return rec.exitCode ?? 0;
    if (!ownerAlive(rec.owner)) await recover(root);
    else await new Promise((r) => setTimeout(r, 50));
  }
}
