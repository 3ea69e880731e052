import { renameSync, writeFileSync } from 'node:fs';
import { StrataError } from '@strata/errors';

/**
 * For crash tests: with `STRATA_TEST_PAUSE_AT=<point>`, the returned checkpoint callback, on
 * reaching that point of a library operation (e.g. `image load`'s `layer-moved:1`), writes
 * `STRATA_TEST_PAUSE_FILE` (`<pid> <point>`) and waits forever, so the test can SIGKILL the
 * process exactly there. Without it: undefined (no callback at all).
 */
export function pauseHook(env: NodeJS.ProcessEnv): ((point: string) => Promise<void>) | undefined {
  const at = env.STRATA_TEST_PAUSE_AT;
  if (!at) return undefined;
  const file = env.STRATA_TEST_PAUSE_FILE;
  if (!file) throw new StrataError('USAGE', 'STRATA_TEST_PAUSE_AT needs STRATA_TEST_PAUSE_FILE (the marker written on pausing)');
  return async (point) => {
    if (point !== at) return;
    writeFileSync(`${file}.tmp`, `${process.pid} ${point}\n`);
    renameSync(`${file}.tmp`, file);
    // a pending promise alone would let node exit: the interval keeps the process alive
    await new Promise(() => setInterval(() => undefined, 1 << 30));
  };
}
