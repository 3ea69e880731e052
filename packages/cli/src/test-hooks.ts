import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { StrataError } from '@strata/errors';

export type Checkpoint = (point: string) => void;

const hooks = new WeakMap<NodeJS.ProcessEnv, Checkpoint | undefined>();

/**
 * For crash tests: with `STRATA_TEST_PAUSE_AT=<point>`, the checkpoint callback the writers get
 * (`image load`'s `layer-moved:1`, the store's `blob-stored`, …) stops the process when it reaches
 * that point: it writes `STRATA_TEST_PAUSE_FILE` (`<pid> <point>`) and blocks, synchronously, so
 * nothing else of the process moves on while the test SIGKILLs it there. `<point>#N` stops at
 * the Nth time the point is reached. Every point passed is appended to `<PAUSE_FILE>.points`
 * (`<point>#N`, one a line), so a test can first list the points of a command (with a point
 * that is never reached) and then stop at each. Without it: undefined (no callback at all). One
 * callback per environment, so every writer of a command counts the same points.
 */
export function pauseHook(env: NodeJS.ProcessEnv): Checkpoint | undefined {
  if (hooks.has(env)) return hooks.get(env);
  const at = env.STRATA_TEST_PAUSE_AT;
  let hook: Checkpoint | undefined;
  if (at) {
    const file = env.STRATA_TEST_PAUSE_FILE;
    if (!file) throw new StrataError('USAGE', 'STRATA_TEST_PAUSE_AT needs STRATA_TEST_PAUSE_FILE (the marker written on pausing)');
    const seen = new Map<string, number>();
    hook = (point) => {
      const n = (seen.get(point) ?? 0) + 1;
      seen.set(point, n);
      appendFileSync(`${file}.points`, `${point}#${n}\n`);
      if (at !== `${point}#${n}` && !(at === point && n === 1)) return;
      writeFileSync(`${file}.tmp`, `${process.pid} ${at}\n`);
      renameSync(`${file}.tmp`, file);
      // Blocks the whole process (no timer, no I/O callback runs) until it is killed.
      for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    };
  }
  hooks.set(env, hook);
  return hook;
}
